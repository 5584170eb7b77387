/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { type Context, Hono } from "hono";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import type { Logger } from "../logger";
import { Layout } from "../web/components/layout";
import { pageHeaders } from "../web/headers";
import { html } from "../web/kit";
import { currentPrincipal, type Principal } from "./context";
import { hasScope, parseKey, SCOPE_HELP, type Scope, secretMatches } from "./keys";
import type { PrincipalResolver } from "./principal";
import { clearSessionCookie, newSessionToken, servedOverTls, sessionId, setSessionCookie } from "./sessions";
import type { SettingsAndStore } from "./types";

/** Failed sign-ins a client may make per minute before it waits (a key's secret has 192 bits; this is hygiene). */
const FAILED_SIGN_INS_PER_MINUTE = 10;

/** Where a sign-in may send the browser next: a path on this site, never another host. */
export function safeNext(next: unknown): string | undefined {
  if (typeof next !== "string" || !/^\/(?![/\\])[^\s\\]*$/.test(next)) return undefined;
  return next.startsWith("/login") || next.startsWith("/logout") ? undefined : next;
}

function LoginPage(props: {
  who: Principal | undefined;
  next?: string | undefined;
  error?: string | undefined;
  notice?: string | undefined;
}) {
  const who = props.who;
  const scopes = (who?.scopes ?? []) as Scope[];
  return (
    <Layout title={who?.session ? "Signed in" : "Sign in"} current="/login">
      <section class="card login">
        {who?.keyId ? (
          <>
            <h1>Signed in</h1>
            <p>
              With operator key <code>{who.keyId}</code>
              {who.session
                ? `, until ${who.session.expiresAt.toISOString().slice(0, 16).replace("T", " ")} UTC`
                : ""}
              .
            </p>
            <ul class="scopes">
              {scopes.map((s) => (
                <li>
                  <strong>{s}</strong>: {SCOPE_HELP[s] ?? "—"}
                </li>
              ))}
            </ul>
            {hasScope(scopes, "monitors") ? (
              <p>
                <a href="/monitors">Monitors</a> · <a href="/mesh">PoP mesh</a>
              </p>
            ) : null}
            {who.session ? (
              <form method="post" action="/logout">
                <button type="submit">Sign out</button>
              </form>
            ) : (
              <p class="muted">
                This key comes with each request (its Authorization header); there is no session to end.
              </p>
            )}
          </>
        ) : (
          <>
            <h1>Sign in</h1>
            {props.notice ? <p class="notice">{props.notice}</p> : null}
            <p class="lede">
              Operators sign in with their operator key (<code>lg keys create</code> prints it once). What the
              key's scopes allow decides what the pages show: monitors and the PoP mesh need the monitors
              scope, and the internal hops the operator hides from the public are shown.
            </p>
            <form method="post" action="/login" class="login-form">
              {props.next ? <input type="hidden" name="next" value={props.next} /> : null}
              <label for="key">Operator key</label>
              <input
                id="key"
                name="key"
                type="password"
                autocomplete="off"
                spellcheck={false}
                required
                aria-invalid={props.error ? "true" : undefined}
                aria-describedby={props.error ? "key-error" : undefined}
                placeholder="lgk_…"
              />
              {props.error ? (
                <p class="field-error" id="key-error" role="alert">
                  {props.error}
                </p>
              ) : null}
              <button type="submit">Sign in</button>
            </form>
          </>
        )}
      </section>
    </Layout>
  );
}

export interface LoginPageDeps extends SettingsAndStore {
  resolver: PrincipalResolver;
  logger: Logger;
  /** `LG_PUBLIC_URL`: an https one makes the cookie `Secure` behind a TLS proxy. */
  publicUrl?: string | undefined;
}

/**
 * `GET /login` (the form, or who is signed in), `POST /login` (form field `key`: a session and its
 * cookie, then 303 to `next` or the operator pages), `POST /logout` (ends the session, clears the
 * cookie, 303 to /login). Sign-ins, failures and sign-outs are audit rows. Both posts pass the
 * form CSRF check (`formCsrf`) before they get here.
 */
export function loginPages(deps: LoginPageDeps): Hono {
  const web = new Hono();
  const log = deps.logger.child({ module: "sessions" });
  const failures = new RateLimiterMemory({ points: FAILED_SIGN_INS_PER_MINUTE, duration: 60 });
  web.use("/login", pageHeaders);
  web.use("/logout", pageHeaders);

  web.get("/login", (c) => {
    const signedOut = c.req.query("signed-out") !== undefined;
    return html(
      c,
      <LoginPage
        who={currentPrincipal()}
        next={safeNext(c.req.query("next"))}
        notice={signedOut ? "Signed out." : undefined}
      />,
    );
  });

  web.post("/login", async (c) => {
    const who = currentPrincipal();
    const client = { clientAddress: who?.address ?? null, clientKey: who?.clientKey ?? "unknown" };
    const fields = await c.req.parseBody();
    const next = safeNext(fields.next);
    const blocked = await failures.get(client.clientKey);
    if (blocked && blocked.remainingPoints <= 0) {
      const wait = Math.max(1, Math.ceil(blocked.msBeforeNext / 1000));
      c.header("Retry-After", String(wait));
      return html(
        c,
        <LoginPage who={undefined} next={next} error={`Too many failed sign-ins; try again in ${wait} s.`} />,
        429,
      );
    }
    const text = typeof fields.key === "string" ? fields.key : "";
    const parsed = parseKey(text);
    const row = parsed ? await deps.store.findKey(parsed.id) : undefined;
    const why = !parsed
      ? "not an operator key"
      : !row
        ? "unknown key"
        : row.revokedAt
          ? "revoked key"
          : !secretMatches(parsed.secret, row.secretHash)
            ? "wrong secret"
            : undefined;
    if (why || !row) {
      await deps.store.recordSignIn({
        event: "sign-in-failed",
        detail: why ?? "unknown key",
        keyId: row?.id ?? null,
        ...client,
      });
      log.warn({ client: client.clientKey, keyId: row?.id, why }, "failed sign-in");
      try {
        await failures.consume(client.clientKey);
      } catch (res) {
        if (!(res instanceof RateLimiterRes)) throw res;
      }
      return html(
        c,
        <LoginPage who={undefined} next={next} error="That key is unknown, revoked or mistyped." />,
        401,
      );
    }
    const token = newSessionToken();
    const expiresAt = new Date(Date.now() + deps.settings.sessionTtlMs);
    await deps.store.insertSession({
      id: sessionId(token),
      keyId: row.id,
      expiresAt,
      clientAddress: client.clientAddress,
    });
    await deps.store.recordSignIn({
      event: "sign-in",
      detail: `session until ${expiresAt.toISOString()}`,
      keyId: row.id,
      ...client,
    });
    log.info({ client: client.clientKey, keyId: row.id }, "signed in");
    setSessionCookie(c, token, deps.settings.sessionTtlMs, servedOverTls(c, deps.publicUrl));
    return c.redirect(next ?? (hasScope(row.scopes, "monitors") ? "/monitors" : "/"), 303);
  });

  web.post("/logout", async (c: Context) => {
    const who = currentPrincipal();
    if (who?.session) {
      await deps.store.endSession(who.session.id);
      deps.resolver.forgetSession(who.session.id);
      await deps.store.recordSignIn({
        event: "sign-out",
        detail: "signed out",
        keyId: who.keyId,
        clientAddress: who.address,
        clientKey: who.clientKey,
      });
      log.info({ client: who.clientKey, keyId: who.keyId }, "signed out");
    }
    clearSessionCookie(c, servedOverTls(c, deps.publicUrl));
    return c.redirect("/login?signed-out", 303);
  });

  return web;
}
