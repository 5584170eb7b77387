import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";

/** A route that takes a body of another size than the global limit (e.g. a customer's upload). */
export interface BodyLimitRoute {
  method: string;
  /** Matched against the request's path. */
  path: RegExp;
  maxBytes: number;
}

const tooLarge = (max: number) => (c: Context) =>
  c.json(
    { error: { code: "body_too_large", message: `the request body is over ${max} bytes; send less` } },
    413,
    // The rest of the body is not read: the connection cannot carry another request after it.
    { connection: "close" },
  );

/**
 * Refuses a request body over `maxBytes` with 413 and the API's error body, before reading the
 * rest: a `Content-Length` over the limit is refused unread, and a body without one (chunked) is
 * counted as it arrives and refused at the first byte past the limit. A route listed in `routes`
 * gets its own limit instead (the first that matches).
 *
 * @example
 *   app.use(requestBodyLimit({ maxBytes: 64 * 1024, routes: [{ method: "POST", path: /^\/upload$/, maxBytes: 8 << 20 }] }));
 */
export function requestBodyLimit(opts: {
  maxBytes: number;
  routes?: readonly BodyLimitRoute[];
}): MiddlewareHandler {
  const limit = (max: number) => bodyLimit({ maxSize: max, onError: tooLarge(max) });
  const global = limit(opts.maxBytes);
  const routes = (opts.routes ?? []).map((r) => ({ ...r, check: limit(r.maxBytes) }));
  return (c, next) => {
    const route = routes.find((r) => r.method === c.req.method && r.path.test(c.req.path));
    return (route?.check ?? global)(c, next);
  };
}
