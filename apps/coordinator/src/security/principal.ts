import { isAllowListed } from "@lg/protocol";
import ipaddr from "ipaddr.js";
import { ApiError } from "../errors";
import { database } from "../http/kit";
import { clientKeyOf } from "./client";
import type { Principal } from "./context";
import { hasScope, parseKey, secretMatches } from "./keys";
import type { SettingsAndStore } from "./types";

/**
 * Turns a request's address and `Authorization` header into a principal. Operator keys are
 * looked up by id and cached per replica for `settings.cacheMs` (`LG_SECURITY_CACHE`, 5 s), so a
 * revoked key stops working within it everywhere without a database query on every request.
 */
export function createPrincipalResolver(deps: SettingsAndStore) {
  const cache = new Map<string, { at: number; row: Awaited<ReturnType<typeof deps.store.findKey>> }>();

  async function lookup(id: string) {
    const hit = cache.get(id);
    if (hit && Date.now() - hit.at < deps.settings.cacheMs) return hit.row;
    const row = await database("check API key", () => deps.store.findKey(id));
    if (cache.size > 10_000) cache.clear();
    cache.set(id, { at: Date.now(), row });
    return row;
  }

  return async function resolve(
    address: string | null,
    authorization: string | undefined,
  ): Promise<Principal> {
    // Fail closed: a request whose address cannot be told is limited (as "unknown"), not exempt.
    const exempt =
      address !== null && ipaddr.isValid(address) && isAllowListed(address, deps.settings.limitsExempt);
    const base = { address, clientKey: clientKeyOf(address) };
    const bearer = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] : undefined;
    // Other bearer tokens (a reverse session's join token) are not operator keys.
    if (!bearer?.startsWith("lgk_")) return { ...base, keyId: null, scopes: [], limited: !exempt };
    const parsed = parseKey(bearer);
    const row = parsed ? await lookup(parsed.id) : undefined;
    if (!parsed || !row || row.revokedAt || !secretMatches(parsed.secret, row.secretHash)) {
      throw new ApiError(401, "invalid_api_key", "the API key is unknown, revoked or mistyped");
    }
    return {
      ...base,
      keyId: row.id,
      scopes: row.scopes,
      limited: !exempt && !hasScope(row.scopes, "unlimited"),
    };
  };
}
