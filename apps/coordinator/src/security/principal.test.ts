import { describe, expect, it } from "vitest";
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
});
