import { describe, expect, it } from "vitest";
import { generateKey } from "./keys";
import { createPrincipalResolver } from "./principal";
import { parseSecuritySettings } from "./settings";
import type { SecurityStore } from "./store";

// Requests without an operator key never reach the store.
const noStore = {} as SecurityStore;
const resolve = createPrincipalResolver({ settings: parseSecuritySettings({}), store: noStore });

describe("who is asking", () => {
  it("a request whose address cannot be told is limited under 'unknown', not exempt", async () => {
    expect(await resolve(null, undefined)).toMatchObject({ limited: true, clientKey: "unknown" });
    expect(await resolve("not-an-address", undefined)).toMatchObject({ limited: true, clientKey: "unknown" });
  });

  it("this host (LG_LIMITS_EXEMPT's default) is exempt; any other address is limited", async () => {
    expect(await resolve("127.0.0.1", undefined)).toMatchObject({ limited: false, clientKey: "127.0.0.1" });
    expect(await resolve("198.51.100.7", undefined)).toMatchObject({
      limited: true,
      clientKey: "198.51.100.7",
    });
  });

  it("a revoked key keeps working on a replica for LG_SECURITY_CACHE, and not a moment with 0s", async () => {
    const { key, id, secretHash } = generateKey();
    const row = {
      id,
      secretHash,
      scopes: ["audit"],
      label: null,
      created: new Date(),
      revokedAt: null as Date | null,
    };
    let reads = 0;
    const store = {
      findKey: async () => {
        reads++;
        return { ...row };
      },
    } as unknown as SecurityStore;
    const bearer = `Bearer ${key}`;
    for (const [cache, stillValid] of [
      ["1h", true],
      ["0s", false],
    ] as const) {
      row.revokedAt = null;
      const resolveWith = createPrincipalResolver({
        settings: parseSecuritySettings({ LG_SECURITY_CACHE: cache }),
        store,
      });
      expect((await resolveWith("198.51.100.7", bearer)).keyId).toBe(id);
      row.revokedAt = new Date();
      const again = resolveWith("198.51.100.7", bearer);
      if (stillValid) await expect(again).resolves.toMatchObject({ keyId: id });
      else await expect(again).rejects.toMatchObject({ code: "invalid_api_key" });
    }
    expect(reads).toBe(3);
  });
});
