/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import { currentPrincipal } from "../../security/context";
import { hasScope } from "../../security/keys";

/** Pages in the top navigation; a page joins it once the API behind it exists. */
export const NAV: { href: string; label: string }[] = [
  { href: "/", label: "Measure" },
  { href: "/#path-test", label: "Path test" },
  { href: "/r/new", label: "Reverse test" },
];

export interface LayoutProps {
  title: string;
  children?: Child;
  /** Load the live-update script (pages that follow an event stream). */
  live?: boolean;
  /** Marks the current navigation entry. */
  current?: string;
}

/** Operators' pages, shown in the navigation only to a principal whose key has their scope. */
export const OPERATOR_NAV: { href: string; label: string }[] = [
  { href: "/monitors", label: "Monitors" },
  { href: "/mesh", label: "Mesh" },
];

/**
 * The signed-in part of the navigation: the operator pages the key's scopes open, and sign out (a
 * form post: it changes state) for a browser session, or the sign-in link for everyone else.
 */
function OperatorNav(props: { current?: string | undefined }) {
  const who = currentPrincipal();
  const pages = who?.keyId && hasScope(who.scopes, "monitors") ? OPERATOR_NAV : [];
  return (
    <>
      {pages.map((n) => (
        <a href={n.href} aria-current={props.current === n.href ? "page" : undefined}>
          {n.label}
        </a>
      ))}
      {who?.session ? (
        <form class="nav-form" method="post" action="/logout">
          <button type="submit" class="link-button" title={`signed in with key ${who.keyId}`}>
            Sign out
          </button>
        </form>
      ) : who?.keyId ? null : (
        <a href="/login" aria-current={props.current === "/login" ? "page" : undefined}>
          Sign in
        </a>
      )}
    </>
  );
}

/** The page shell: doctype, viewport for phones, one stylesheet, the optional live script. */
export function Layout(props: LayoutProps) {
  return (
    <>
      {raw("<!doctype html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{`${props.title} · lg looking glass`}</title>
          <link rel="stylesheet" href="/assets/style.css" />
          {props.live ? <script src="/assets/live.js" defer /> : null}
        </head>
        <body>
          <a class="skip" href="#main">
            Skip to content
          </a>
          <header class="top">
            <a class="brand" href="/">
              <span class="brand-mark" aria-hidden="true">
                ◉
              </span>{" "}
              lg <span class="brand-sub">looking glass</span>
            </a>
            <nav aria-label="Main">
              {NAV.map((n) => (
                <a href={n.href} aria-current={props.current === n.href ? "page" : undefined}>
                  {n.label}
                </a>
              ))}
              <OperatorNav current={props.current} />
            </nav>
          </header>
          <main id="main">{props.children}</main>
          <footer class="foot">
            Numbers are round-trip times in milliseconds measured by mtr-style probes. API:{" "}
            <a href="/openapi.json">/openapi.json</a>. Origin AS data:{" "}
            <a href="https://db-ip.com">IP to ASN by DB-IP</a> (CC BY 4.0) and RouteViews. Places:{" "}
            <a href="https://db-ip.com">IP Geolocation by DB-IP</a> (CC BY 4.0), checked against the PoPs'
            round-trip times. Map: <a href="https://www.naturalearthdata.com">Natural Earth</a> (public
            domain).
          </footer>
        </body>
      </html>
    </>
  );
}
