import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, createSecurityStore, type SecurityStore } from "../../src/security";
import { newSessionToken, servedOverTls, sessionId, setSessionCookie } from "../../src/security/sessions";
import { type Stack, startStack } from "../harness";

type AuditRow = { event: string; detail: string | null; keyId: string | null; target: string | null };

/**
 * Operators sign in at /login with their key over real HTTP (PGlite, a real nats-server): the
 * session cookie, the form CSRF check, scopes, sign-out, revocation, expiry and the audit rows.
 * LG_SECURITY_CACHE=0s, so a revocation shows at once.
 */
describe("operators' browser sessions (/login, /logout)", () => {
  let stack: Stack;
  let store: SecurityStore;
  let url: string;
  let monitorsKey: { id: string; key: string };
  let plainKey: { id: string; key: string };
  let auditKey: string;

  beforeAll(async () => {
    stack = await startStack("pglite", { env: { LG_SECURITY_CACHE: "0s", LG_SESSION_TTL: "2h" } });
    url = stack.coordinator.url;
    store = createSecurityStore(stack.coordinator.db.db);
    monitorsKey = await createApiKey(store, ["monitors"], "noc");
    plainKey = await createApiKey(store, ["unlimited"], "script");
    auditKey = (await createApiKey(store, ["audit"], "auditor")).key;
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  /** A form post as a browser sends it from the coordinator's own page (unless told otherwise). */
  const post = (path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: url, ...headers },
      body: new URLSearchParams(fields).toString(),
      redirect: "manual",
    });
  const get = (path: string, cookie?: string) =>
    fetch(`${url}${path}`, { headers: cookie ? { cookie } : {}, redirect: "manual" });
  /** `name=value` of the session cookie a response sets. */
  const cookieOf = (res: Response) => (res.headers.get("set-cookie") ?? "").split(";")[0] as string;
  const audit = async (event: string) =>
    (await (
      await fetch(`${url}/api/v1/admin/audit?event=${event}`, {
        headers: { authorization: `Bearer ${auditKey}` },
      })
    ).json()) as AuditRow[];
  const signIn = async (key: string) => {
    const res = await post("/login", { key });
    expect(res.status).toBe(303);
    return cookieOf(res);
  };

  it("GET /login is a form with the field `key` and the page security headers", async () => {
    const res = await get("/login");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("form-action 'self'");
    const page = await res.text();
    expect(page).toMatch(/<form method="post" action="\/login"/);
    expect(page).toMatch(/<input id="key" name="key" type="password"/);
  });

  it("a right key gets a session cookie (HttpOnly, SameSite=Strict, Path=/, Max-Age; not Secure over plain HTTP) and lands on /monitors", async () => {
    const res = await post("/login", { key: monitorsKey.key });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/monitors");
    const set = res.headers.get("set-cookie") ?? "";
    expect(set).toMatch(/^lg_session=[A-Za-z0-9_-]{43};/);
    expect(set).toContain("HttpOnly");
    expect(set).toContain("SameSite=Strict");
    expect(set).toContain("Path=/");
    expect(set).toContain(`Max-Age=${2 * 3600}`);
    expect(set).not.toContain("Secure");
    const cookie = cookieOf(res);
    const monitors = await get("/monitors", cookie);
    expect(monitors.status).toBe(200);
    const page = await monitors.text();
    expect(page).toContain('action="/logout"');
    expect(page).toContain('href="/mesh"');
    expect((await get("/mesh", cookie)).status).toBe(200);
    // The stored session is the token's hash, never the token.
    const token = cookie.split("=")[1] as string;
    expect(await store.findSession(token)).toBeUndefined();
    expect(await store.findSession(sessionId(token))).toMatchObject({ keyId: monitorsKey.id, endedAt: null });
    const rows = await audit("sign-in");
    expect(rows[0]).toMatchObject({ event: "sign-in", keyId: monitorsKey.id, target: null });
  });

  it("`next` sends the browser back to the page that asked, but never to another host", async () => {
    const back = await post("/login", { key: monitorsKey.key, next: "/mesh" });
    expect(back.headers.get("location")).toBe("/mesh");
    for (const next of ["//evil.example/x", "https://evil.example/", "/\\evil.example"]) {
      const res = await post("/login", { key: monitorsKey.key, next });
      expect(res.headers.get("location"), next).toBe("/monitors");
    }
  });

  it("without a session the operator pages refuse and point to /login; the public pages show 'Sign in'", async () => {
    const res = await get("/monitors");
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('href="/login?next=%2Fmonitors"');
    const home = await (await get("/")).text();
    expect(home).toContain('href="/login"');
    expect(home).not.toContain('href="/monitors"');
  });

  it("a key without the monitors scope signs in, but the operator pages are 403 and not in the navigation", async () => {
    const cookie = await signIn(plainKey.key);
    const res = await get("/monitors", cookie);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("lacks the monitors scope");
    const home = await (await get("/", cookie)).text();
    expect(home).not.toContain('href="/monitors"');
    expect(home).toContain('action="/logout"');
  });

  it("a wrong, revoked or mistyped key is 401 with the form again, and each failure is an audit row saying why", async () => {
    const revoked = await createApiKey(store, ["monitors"], "old");
    await store.revokeKey(revoked.id);
    const wrongSecret = `lgk_${monitorsKey.id}_${"A".repeat(32)}`;
    for (const key of ["nonsense", wrongSecret, revoked.key]) {
      const res = await post("/login", { key }, { "x-forwarded-for": "198.51.100.9" });
      expect(res.status, key).toBe(401);
      expect(res.headers.get("set-cookie")).toBeNull();
      expect(await res.text()).toContain("That key is unknown, revoked or mistyped.");
    }
    const rows = (await audit("sign-in-failed")).slice(0, 3);
    expect(rows.map((r) => [r.detail, r.keyId])).toEqual([
      ["revoked key", revoked.id],
      ["wrong secret", monitorsKey.id],
      ["not an operator key", null],
    ]);
  });

  it("a sign-in posted from another site, or without saying where from, is 403 and opens no session", async () => {
    const forged: Record<string, string>[] = [
      { origin: "https://evil.example" },
      { origin: "null" },
      { origin: "", "sec-fetch-site": "cross-site" },
      { origin: "", "sec-fetch-site": "same-site" },
    ];
    for (const headers of forged) {
      const res = await post("/login", { key: monitorsKey.key }, headers);
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(res.headers.get("set-cookie")).toBeNull();
      expect(await res.text()).toContain("This form was not sent from this site");
    }
    const bare = await fetch(`${url}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `key=${monitorsKey.key}`,
      redirect: "manual",
    });
    expect(bare.status).toBe(403);
    // Sec-Fetch-Site: same-origin alone is enough (a browser behind a proxy that rewrites the host).
    const sameOrigin = await post(
      "/login",
      { key: monitorsKey.key },
      { origin: "", "sec-fetch-site": "same-origin" },
    );
    expect(sameOrigin.status).toBe(303);
  });

  it("every web form has the same CSRF check, whoever posts it: a measurement form from another site is 403", async () => {
    const cookie = await signIn(monitorsKey.key);
    for (const path of ["/", "/p", "/r/new", "/logout"]) {
      const res = await post(path, { target: "127.0.0.1" }, { origin: "https://evil.example", cookie });
      expect(res.status, path).toBe(403);
    }
    // The session survived the forged sign-out.
    expect((await get("/monitors", cookie)).status).toBe(200);
  });

  it("the cookie reads the API but never authorises a state-changing API call", async () => {
    const cookie = await signIn(monitorsKey.key);
    const list = await fetch(`${url}/api/v1/monitors`, { headers: { cookie } });
    expect(list.status).toBe(200);
    const create = await fetch(`${url}/api/v1/monitors`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json", origin: url },
      body: JSON.stringify({ kind: "trace", every: 60, measurement: { target: "127.0.0.1" } }),
    });
    expect(create.status).toBe(401);
  });

  it("sign-out ends the session: the cookie is cleared, the old cookie opens nothing, and it is an audit row", async () => {
    const cookie = await signIn(monitorsKey.key);
    const out = await post("/logout", {}, { cookie });
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe("/login?signed-out");
    expect(out.headers.get("set-cookie")).toMatch(/^lg_session=; Max-Age=0/);
    const after = await get("/monitors", cookie);
    expect(after.status).toBe(401);
    expect((await audit("sign-out"))[0]).toMatchObject({ keyId: monitorsKey.id, detail: "signed out" });
    expect(await (await get("/login?signed-out")).text()).toContain("Signed out.");
  });

  it("revoking a key ends its sessions at once (LG_SECURITY_CACHE=0s), and the stale cookie is cleared", async () => {
    const key = await createApiKey(store, ["monitors"], "leaving");
    const cookie = await signIn(key.key);
    expect((await get("/monitors", cookie)).status).toBe(200);
    expect(await store.revokeKey(key.id)).toBe(true);
    const res = await get("/monitors", cookie);
    expect(res.status).toBe(401);
    expect(res.headers.get("set-cookie")).toMatch(/^lg_session=; Max-Age=0/);
    const ended = await store.findSession(sessionId(cookie.split("=")[1] as string));
    expect(ended?.endedAt).toBeInstanceOf(Date);
  });

  it("an expired session opens nothing", async () => {
    const token = newSessionToken();
    await store.insertSession({
      id: sessionId(token),
      keyId: monitorsKey.id,
      expiresAt: new Date(Date.now() - 1_000),
      clientAddress: "127.0.0.1",
    });
    expect((await get("/monitors", `lg_session=${token}`)).status).toBe(401);
  });

  it("ten failed sign-ins a minute from one client, then 429 with Retry-After, even for the right key", async () => {
    const client = { "x-forwarded-for": "203.0.113.77" };
    // app-level trusted proxies are off: the socket (127.0.0.1) is the client, shared with the tests above.
    let status = 0;
    for (let i = 0; i < 12 && status !== 429; i++)
      status = (await post("/login", { key: "wrong" }, client)).status;
    expect(status).toBe(429);
    const res = await post("/login", { key: monitorsKey.key }, client);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });
});

describe("the session cookie under TLS", () => {
  const app = (publicUrl?: string) =>
    new Hono().get("/", (c) => {
      setSessionCookie(c, newSessionToken(), 3_600_000, servedOverTls(c, publicUrl));
      return c.body(null, 204);
    });

  it("over HTTPS it is Secure with the __Host- prefix (no Domain, Path=/)", async () => {
    const set = (await app().request("https://lg.example.net/")).headers.get("set-cookie") ?? "";
    expect(set).toMatch(/^__Host-lg_session=/);
    expect(set).toContain("Secure");
    expect(set).not.toContain("Domain");
    expect(set).toContain("HttpOnly");
    expect(set).toContain("SameSite=Strict");
  });

  it("behind a TLS proxy (LG_PUBLIC_URL https) it is Secure too; over plain HTTP without one it is not", async () => {
    const proxied = (await app("https://lg.example.net").request("http://10.0.0.5/")).headers.get(
      "set-cookie",
    );
    expect(proxied).toContain("Secure");
    const plain = (await app().request("http://10.0.0.5/")).headers.get("set-cookie");
    expect(plain).not.toContain("Secure");
  });
});
