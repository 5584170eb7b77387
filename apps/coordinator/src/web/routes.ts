import { Hono } from "hono";
import { measurementPages } from "../measurements/pages";
import { monitorPages } from "../monitors/pages";
import { pathTestPages } from "../path-tests/pages";
import { reverseSessionPages } from "../reverse-sessions/pages";
import { LIVE_JS, STYLE_CSS } from "./assets";
import { pageHeaders } from "./headers";
import type { WebDeps } from "./kit";

export type { WebDeps } from "./kit";

/** Paths the web UI answers; only these get the page security headers. */
const WEB_PATH = /^\/($|m\/|compare\/|assets\/|p\/|r\/|mesh$|monitors($|\/))/;

/**
 * The web UI: server-rendered pages over the same services as the API, one page module per
 * feature (`<feature>/pages.tsx`), plus the stylesheet and the live script. Mount once:
 * `app.route("/", webRoutes(deps))`.
 */
export function webRoutes(deps: WebDeps): Hono {
  const web = new Hono();

  web.use("*", async (c, next) => (WEB_PATH.test(c.req.path) ? pageHeaders(c, next) : next()));

  web.get("/assets/style.css", (c) =>
    c.body(STYLE_CSS, 200, { "content-type": "text/css; charset=utf-8", "cache-control": "no-cache" }),
  );
  web.get("/assets/live.js", (c) =>
    c.body(LIVE_JS, 200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-cache" }),
  );

  web.route("/", measurementPages(deps));
  const { pathTests, reverseSessions, monitors } = deps;
  if (pathTests) web.route("/", pathTestPages({ ...deps, pathTests }));
  if (reverseSessions) web.route("/", reverseSessionPages({ ...deps, reverseSessions }));
  if (monitors) web.route("/", monitorPages({ ...deps, monitors }));

  return web;
}
