import { AsyncLocalStorage } from "node:async_hooks";

/** Who is asking, for the length of one HTTP request. */
export interface Principal {
  /** The client's address (after trusted proxies); null when it cannot be told (then limited as "unknown"). */
  address: string | null;
  /** The address grouped for limits (IPv6 by /64). */
  clientKey: string;
  /** The operator key's id, when one was presented. */
  keyId: string | null;
  scopes: readonly string[];
  /** Set when the key came from a browser session (`/login`), not from an `Authorization` header. */
  session?: { id: string; expiresAt: Date };
  /** The request carried a session cookie that no longer opens a session (ended, expired, revoked key). */
  staleSession?: boolean;
  /** Public limits apply (no `unlimited` key, not an exempt address). */
  limited: boolean;
  /** Set by a limit that refused the request: seconds for `Retry-After`. */
  retryAfter?: number;
  /** Set once the request was counted against the client's rate limit (it counts once). */
  admitted?: boolean;
}

/**
 * Requests carry their principal through an AsyncLocalStorage, so the measurement guard below
 * the routes sees who asked without every route passing it down.
 */
const storage = new AsyncLocalStorage<Principal>();

export const runAs = <T>(p: Principal, fn: () => T): T => storage.run(p, fn);
export const currentPrincipal = (): Principal | undefined => storage.getStore();

/** Work the coordinator starts itself (reverse-session legs): no client, no public limits. */
export const SYSTEM: Principal = {
  address: null,
  clientKey: "system",
  keyId: null,
  scopes: [],
  limited: false,
};
