import type { ApiKeyRow, OperatorSessionRow } from "@lg/db";
import { isAllowListed } from "@lg/protocol";
import ipaddr from "ipaddr.js";
import { ApiError } from "../errors";
import { database } from "../http/kit";
import { clientKeyOf } from "./client";
import type { Principal } from "./context";
import { hasScope, parseKey, secretMatches } from "./keys";
import { sessionId } from "./sessions";
import type { SettingsAndStore } from "./types";

/** A short-lived per-replica cache of rows read by id (`LG_SECURITY_CACHE`). */
function cached<T>(cacheMs: number, read: (id: string) => Promise<T>) {
  const cache = new Map<string, { at: number; row: T }>();
  return {
    async get(id: string): Promise<T> {
      const hit = cache.get(id);
      if (hit && Date.now() - hit.at < cacheMs) return hit.row;
      const row = await read(id);
      if (cache.size > 10_000) cache.clear();
      cache.set(id, { at: Date.now(), row });
      return row;
    },
    forget(id: string) {
      cache.delete(id);
    },
  };
}

/** The resolver: a request's address, `Authorization` header and session token -> its principal. */
export interface PrincipalResolver {
  (address: string | null, authorization: string | undefined, sessionToken?: string): Promise<Principal>;
  /** Drops a session from this replica's cache (it was just ended here). */
  forgetSession(id: string): void;
}

/**
 * Turns a request's address, `Authorization` header and session cookie into a principal. Operator
 * keys and sessions are looked up by id and cached per replica for `settings.cacheMs`
 * (`LG_SECURITY_CACHE`, 5 s), so a revoked key — and with it every session it opened — stops working
 * within it everywhere without a database query on every request. A bearer key wins over a cookie;
 * a cookie whose session is unknown, ended, expired or whose key is revoked counts as no session
 * (the request is public, `staleSession` set so the cookie can be cleared), never as an error.
 */
export function createPrincipalResolver(deps: SettingsAndStore): PrincipalResolver {
  const keys = cached<ApiKeyRow | undefined>(deps.settings.cacheMs, (id) =>
    database("check API key", () => deps.store.findKey(id)),
  );
  const sessions = cached<OperatorSessionRow | undefined>(deps.settings.cacheMs, (id) =>
    database("check the session", () => deps.store.findSession(id)),
  );

  const resolve = async (
    address: string | null,
    authorization: string | undefined,
    sessionToken?: string,
  ): Promise<Principal> => {
    // Fail closed: a request whose address cannot be told is limited (as "unknown"), not exempt.
    const exempt =
      address !== null && ipaddr.isValid(address) && isAllowListed(address, deps.settings.limitsExempt);
    const base = { address, clientKey: clientKeyOf(address) };
    const operator = (row: ApiKeyRow) => ({
      keyId: row.id,
      scopes: row.scopes,
      limited: !exempt && !hasScope(row.scopes, "unlimited"),
    });
    const bearer = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] : undefined;
    // Other bearer tokens (a reverse session's join token) are not operator keys.
    if (bearer?.startsWith("lgk_")) {
      const parsed = parseKey(bearer);
      const row = parsed ? await keys.get(parsed.id) : undefined;
      if (!parsed || !row || row.revokedAt || !secretMatches(parsed.secret, row.secretHash)) {
        throw new ApiError(401, "invalid_api_key", "the API key is unknown, revoked or mistyped");
      }
      return { ...base, ...operator(row) };
    }
    const anonymous: Principal = { ...base, keyId: null, scopes: [], limited: !exempt };
    if (!sessionToken) return anonymous;
    const id = sessionId(sessionToken);
    const session = await sessions.get(id);
    const live = session && !session.endedAt && session.expiresAt.getTime() > Date.now();
    const row = live ? await keys.get(session.keyId) : undefined;
    if (!session || !live || !row || row.revokedAt) return { ...anonymous, staleSession: true };
    return { ...base, ...operator(row), session: { id, expiresAt: session.expiresAt } };
  };
  return Object.assign(resolve, { forgetSession: (id: string) => sessions.forget(id) });
}
