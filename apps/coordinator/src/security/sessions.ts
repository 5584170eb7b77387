import { createHash, randomBytes } from "node:crypto";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";

/**
 * The session cookie's name. Under TLS it carries the `__Host-` prefix, which browsers accept only
 * with `Secure`, `Path=/` and no `Domain`: no other host (a sibling subdomain) can set or shadow it.
 */
export const SESSION_COOKIE = "lg_session";
const HOST_PREFIXED = `__Host-${SESSION_COOKIE}`;

/** A new session token (256 random bits, base64url) for the cookie; only its hash is stored. */
export function newSessionToken(): string {
  return randomBytes(32).toString("base64url");
}

/** The stored id of a session: the SHA-256 of its token, hex. */
export function sessionId(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** A token as the cookie carries it: 43 base64url characters; anything else is no session. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** The session token a request's cookie carries, if well-formed. */
export function sessionTokenOf(c: Context): string | undefined {
  const token = getCookie(c, HOST_PREFIXED) ?? getCookie(c, SESSION_COOKIE);
  return token && TOKEN.test(token) ? token : undefined;
}

/**
 * Is this request (or the public address it is served under) over TLS? Then the cookie is `Secure`.
 * The coordinator's own HTTPS shows in the request URL; behind a TLS proxy, `LG_PUBLIC_URL` says so.
 */
export function servedOverTls(c: Context, publicUrl: string | undefined): boolean {
  return new URL(c.req.url).protocol === "https:" || (publicUrl?.startsWith("https:") ?? false);
}

/**
 * Sets the session cookie: `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's
 * page, link or form sends it), `Path=/`, `Max-Age` = the session's life, and under TLS `Secure`
 * with the `__Host-` prefix.
 */
export function setSessionCookie(c: Context, token: string, maxAgeMs: number, tls: boolean): void {
  const options = {
    httpOnly: true,
    sameSite: "Strict" as const,
    path: "/",
    maxAge: Math.floor(maxAgeMs / 1000),
  };
  if (tls) setCookie(c, SESSION_COOKIE, token, { ...options, secure: true, prefix: "host" });
  else setCookie(c, SESSION_COOKIE, token, options);
}

/** Clears the session cookie (both spellings: the request may have come over either). */
export function clearSessionCookie(c: Context, tls: boolean): void {
  if (tls) deleteCookie(c, SESSION_COOKIE, { path: "/", secure: true, prefix: "host" });
  deleteCookie(c, SESSION_COOKIE, { path: "/", httpOnly: true, sameSite: "Strict" });
}
