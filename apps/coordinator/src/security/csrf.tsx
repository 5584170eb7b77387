/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { MiddlewareHandler } from "hono";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import { html } from "../web/kit";
import { MessagePage } from "../web/pages";

const SAFE_METHOD = /^(GET|HEAD|OPTIONS)$/;

/**
 * CSRF protection of every state-changing web form (`POST /`, `/p`, `/r/new`, `/login`,
 * `/logout`, and any form a page adds): a form post is taken only when the browser says it comes
 * from this site's own pages — `Sec-Fetch-Site: same-origin`, or an `Origin` that is the request's
 * own origin or `LG_PUBLIC_URL`'s (behind a TLS proxy the request URL says http). Anything else,
 * a request with neither header included, is 403 with a page that says why. The check is Hono's
 * `csrf` middleware; API routes (`/api/…`) are left to their own credentials: a session cookie
 * never authorises a state-changing API call (see `securityMiddleware`).
 */
export function formCsrf(opts: { publicUrl?: string | undefined } = {}): MiddlewareHandler {
  const publicOrigin = opts.publicUrl ? new URL(opts.publicUrl).origin : undefined;
  const check = csrf({
    origin: (origin, c) => origin === new URL(c.req.url).origin || origin === publicOrigin,
    secFetchSite: "same-origin",
  });
  return async (c, next) => {
    if (SAFE_METHOD.test(c.req.method) || c.req.path.startsWith("/api/")) return next();
    try {
      await check(c, async () => {});
    } catch (err) {
      if (!(err instanceof HTTPException) || err.status !== 403) throw err;
      return html(
        c,
        <MessagePage title="This form was not sent from this site">
          <p>
            The looking glass takes a form only from its own pages (the browser says where a form comes from).
            Open the page again here and send the form from it.
          </p>
        </MessagePage>,
        403,
      );
    }
    return next();
  };
}
