/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { Readable } from "node:stream";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Repository } from "@lg/db";
import type { Context } from "hono";
import { ApiError } from "../errors";
import { type AppEnv, createRouter, database } from "../http/kit";
import { currentPrincipal } from "../security/context";
import { agentsById, html } from "../web/kit";
import { findJoinBinary, findJoinBundle, JOIN_BINARY } from "./bundle";
import { customerTarget } from "./customer";
import { CustomerLinkRefused, CustomerPage, systemOf } from "./customer-page";
import {
  createReverseSession,
  customerPageRoute,
  customerStartRoute,
  customerUploadRoute,
  getReverseSession,
  joinBinaryRoute,
  joinBundleRoute,
  joinNatsRoute,
  joinReverseSession,
  joinScriptRoute,
} from "./openapi";
import { joinCommand, joinScript } from "./script";
import type { ReverseSessionService } from "./service";

export interface ReverseSessionRouteDeps {
  reverseSessions: ReverseSessionService;
  /** Agents for the customer's page (the target address, the legs' labels). */
  repo: Repository;
  clientAddress?: ((c: unknown) => string | null) | undefined;
  /** Path of the bundled join agent (default: found by {@link findJoinBundle}). */
  joinBundle?: string | undefined;
  /** Path of the join agent's single executable (default: found by {@link findJoinBinary}). */
  joinBinary?: string | undefined;
}

/** The coordinator's address as the caller reached it (so a command works from where it was asked). */
const baseUrlOf = (c: Context) => new URL(c.req.url).origin;

/** The join token: `Authorization: Bearer <token>` or `?token=` (the one-line command carries it in the URL). */
function tokenOf(c: Context): string | undefined {
  const auth = c.req.header("authorization");
  const bearer = auth && /^Bearer\s+(.+)$/i.exec(auth)?.[1];
  return bearer || c.req.query("token") || undefined;
}

/** A form in a browser (its own page's), not a script: it is answered with pages and redirects. */
const fromBrowser = (c: Context) => /\btext\/html\b/i.test(c.req.header("accept") ?? "");

/**
 * The uploaded text: a form's `file` or `report` field, `report=` URL-encoded (a paste), or the body
 * as the tool wrote it (`curl --data-binary @mtr.txt`, whatever its content type). UTF-16 with a
 * byte-order mark (Windows editors) is decoded as such.
 */
async function uploadText(c: Context): Promise<string> {
  const type = c.req.header("content-type") ?? "";
  if (/^multipart\/form-data/i.test(type)) {
    const form = await c.req.parseBody();
    const file = form.file;
    if (file instanceof File && file.size > 0) return decodeText(new Uint8Array(await file.arrayBuffer()));
    if (typeof form.report === "string" && form.report.trim()) return form.report;
    throw new ApiError(
      422,
      "unreadable_upload",
      "the form has neither a file (field 'file') nor pasted text (field 'report')",
      "upload",
    );
  }
  const text = decodeText(new Uint8Array(await c.req.arrayBuffer()));
  if (/^application\/x-www-form-urlencoded/i.test(type) && text.startsWith("report="))
    return new URLSearchParams(text).get("report") ?? "";
  return text;
}

function decodeText(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder("utf-16le").decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder("utf-16be").decode(bytes.subarray(2));
  return new TextDecoder("utf-8").decode(bytes);
}

/**
 * `POST /api/v1/reverse-sessions`, `GET /api/v1/reverse-sessions/{id}`, and the customer's side:
 * `join.sh` (the checked start script), `lg-join.mjs` (the bundled join agent) and `POST .../join`.
 * The NATS WebSocket route (`.../nats`) is served by the join bridge on the HTTP server's upgrades;
 * a plain GET of it is answered here with 426. Declared in `./openapi.ts`.
 */
export function reverseSessionRoutes(deps: ReverseSessionRouteDeps): OpenAPIHono<AppEnv> {
  const app = createRouter();
  const sessions = deps.reverseSessions;
  /** The caller's address as the limits see it: after the trusted-proxy rules, else the socket's. */
  const clientOf = (c: Context): string | null => {
    const who = currentPrincipal();
    return who ? who.address : (deps.clientAddress?.(c) ?? null);
  };
  const urlsOf = (c: Context, id: string, token: string) => {
    const session = `${baseUrlOf(c)}/api/v1/reverse-sessions/${id}`;
    const q = `?token=${encodeURIComponent(token)}`;
    return {
      customerUrl: `${session}/customer${q}`,
      uploadUrl: `${session}/upload${q}`,
      joinCommand: joinCommand(`${session}/join.sh${q}`),
    };
  };
  /** The customer's page for a session row (the caller holds its token). */
  async function customerPage(
    c: Context,
    id: string,
    token: string,
    status: 200 | 409 | 422 | 429 | 400 | 403 = 200,
    error?: ApiError,
  ) {
    const row = await sessions.load(id);
    const [session, agents, rows] = await Promise.all([
      sessions.view(row),
      agentsById(deps),
      database("list agents", () => deps.repo.listAgents()),
    ]);
    c.header("cache-control", "no-store");
    // The page's forms carry the token: no Referer to the links it shows.
    c.header("referrer-policy", "no-referrer");
    return html(
      c,
      <CustomerPage
        session={session}
        agents={agents}
        target={customerTarget(row, rows).address}
        options={row.options}
        {...urlsOf(c, id, token)}
        system={systemOf(c.req.header("user-agent"))}
        error={error ? { code: error.code, message: error.message } : undefined}
      />,
      status,
    );
  }
  const pageStatus = (e: ApiError) => ([400, 403, 409, 422, 429] as const).find((x) => x === e.status);

  app.openapi(createReverseSession, async (c) =>
    c.json(await sessions.create(c.req.valid("json"), baseUrlOf(c)), 201),
  );

  app.openapi(getReverseSession, async (c) => c.json(await sessions.get(c.req.valid("param").id), 200));

  app.openapi(joinReverseSession, async (c) =>
    c.json(await sessions.join(c.req.valid("param").id, tokenOf(c), clientOf(c), baseUrlOf(c)), 200),
  );

  app.openapi(customerPageRoute, async (c) => {
    const { id } = c.req.valid("param");
    const token = tokenOf(c);
    try {
      await sessions.customer.open(id, token, clientOf(c));
    } catch (err) {
      if (err instanceof ApiError && fromBrowser(c) && (err.status === 401 || err.status === 404))
        return html(c, <CustomerLinkRefused message={err.message} />, err.status);
      throw err;
    }
    return customerPage(c, id, token as string);
  });

  app.openapi(customerStartRoute, async (c) => {
    const { id } = c.req.valid("param");
    const token = tokenOf(c);
    try {
      const row = await sessions.customer.start(id, token, clientOf(c));
      if (fromBrowser(c)) return c.redirect(urlsOf(c, id, token as string).customerUrl, 303);
      return c.json(await sessions.view(row), 202);
    } catch (err) {
      const status = err instanceof ApiError ? pageStatus(err) : undefined;
      if (status && fromBrowser(c)) return customerPage(c, id, token as string, status, err as ApiError);
      throw err;
    }
  });

  app.openapi(customerUploadRoute, async (c) => {
    const { id } = c.req.valid("param");
    const token = tokenOf(c);
    try {
      const text = await uploadText(c);
      const { trace, row } = await sessions.customer.upload(id, token, text, clientOf(c));
      if (fromBrowser(c)) return c.redirect(urlsOf(c, id, token as string).customerUrl, 303);
      return c.json({ trace, session: await sessions.view(row) }, 201);
    } catch (err) {
      const status = err instanceof ApiError ? pageStatus(err) : undefined;
      if (status && fromBrowser(c)) return customerPage(c, id, token as string, status, err as ApiError);
      throw err;
    }
  });

  app.openapi(joinScriptRoute, async (c) => {
    const { id } = c.req.valid("param");
    const token = tokenOf(c) as string;
    await sessions.authorize(id, token);
    const session = `${baseUrlOf(c)}/api/v1/reverse-sessions/${id}`;
    const q = `?token=${encodeURIComponent(token)}`;
    const text = joinScript({
      sessionId: id,
      bundleUrl: `${session}/lg-join.mjs${q}`,
      binaryUrl: `${session}/${JOIN_BINARY}${q}`,
      joinUrl: `${session}/join${q}`,
    });
    return c.body(text, 200, {
      "content-type": "text/x-shellscript; charset=utf-8",
      "cache-control": "no-store",
    });
  });

  app.openapi(joinBundleRoute, async (c) => {
    await sessions.authorize(c.req.valid("param").id, tokenOf(c));
    const path = findJoinBundle(deps.joinBundle);
    if (!path) {
      throw new ApiError(
        503,
        "join_bundle_missing",
        "the join agent bundle is not built on this coordinator (run `pnpm build`)",
      );
    }
    const body = await readFile(path);
    return c.body(body, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "no-store",
    });
  });

  app.openapi(joinBinaryRoute, async (c) => {
    await sessions.authorize(c.req.valid("param").id, tokenOf(c));
    const path = findJoinBinary(deps.joinBinary);
    if (!path) {
      throw new ApiError(
        503,
        "join_binary_missing",
        "the join agent's single executable is not built on this coordinator (run `pnpm -F @lg/agent build` on linux-x64)",
      );
    }
    // ~100 MiB: streamed from the file, never held whole.
    const body = Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>;
    return c.body(body, 200, {
      "content-type": "application/octet-stream",
      "content-disposition": `attachment; filename="${JOIN_BINARY}"`,
      "cache-control": "no-store",
    });
  });

  app.openapi(joinNatsRoute, () => {
    throw new ApiError(
      426,
      "upgrade_required",
      "this route carries NATS over WebSocket; connect with a WebSocket client",
    );
  });

  return app;
}
