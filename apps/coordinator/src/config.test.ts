import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config";

describe("coordinator configuration", () => {
  it("without NATS_URL it refuses to start with one line that says what to do", () => {
    expect(() => loadConfig({})).toThrow(ConfigError);
    // One line: the message names NATS_URL and holds no line break.
    expect(() => loadConfig({ PORT: "8080" })).toThrow(/^[^\n]*NATS_URL[^\n]*$/);
  });

  it("fills in the documented defaults and treats empty variables as unset", () => {
    const c = loadConfig({ NATS_URL: "nats://127.0.0.1:4222", DATABASE_URL: "", LOG_LEVEL: "" });
    expect(c).toMatchObject({ host: "127.0.0.1", port: 8080, dataDir: "./.lg", logLevel: "info" });
    expect(c.databaseUrl).toBeUndefined();
    expect(c.allowList).toEqual([]);
  });

  it("names the variable when a value is wrong", () => {
    expect(() => loadConfig({ NATS_URL: "nats://x:1", PORT: "http" })).toThrow(/PORT/);
    expect(() => loadConfig({ NATS_URL: "nats://x:1", LG_ALLOW_TARGETS: "198.18.0.0/15,nonsense" })).toThrow(
      /LG_ALLOW_TARGETS.*nonsense/,
    );
    expect(() => loadConfig({ NATS_URL: "nats://x:1", LOG_LEVEL: "loud" })).toThrow(/LOG_LEVEL/);
  });

  it("reads the place settings: the operator's table and whether to use the city database", () => {
    expect(loadConfig({ NATS_URL: "nats://x:1" }).geo).toEqual({ prefixFile: undefined, database: true });
    expect(
      loadConfig({ NATS_URL: "nats://x:1", LG_GEO_PREFIXES: "/etc/lg/places.csv", LG_GEO_DATABASE: "off" })
        .geo,
    ).toEqual({ prefixFile: "/etc/lg/places.csv", database: false });
    expect(() => loadConfig({ NATS_URL: "nats://x:1", LG_GEO_DATABASE: "maybe" })).toThrow(
      "LG_GEO_DATABASE must be 'on' or 'off'",
    );
  });

  it("parses the target allow-list for IPv4 and IPv6", () => {
    const c = loadConfig({ NATS_URL: "nats://x:1", LG_ALLOW_TARGETS: "198.18.0.0/15, 2001:2::/48" });
    expect(c.allowList).toHaveLength(2);
  });

  it("LG_MAX_BODY defaults to 64 KiB, takes k/m sizes, and names itself when wrong or under 1k", () => {
    const base = { NATS_URL: "nats://x:1" };
    expect(loadConfig(base).security.maxBodyBytes).toBe(65_536);
    expect(loadConfig({ ...base, LG_MAX_BODY: "1m" }).security.maxBodyBytes).toBe(1_048_576);
    expect(loadConfig({ ...base, LG_MAX_BODY: "128KiB" }).security.maxBodyBytes).toBe(131_072);
    expect(() => loadConfig({ ...base, LG_MAX_BODY: "lots" })).toThrow(/^LG_MAX_BODY: /);
    expect(() => loadConfig({ ...base, LG_MAX_BODY: "100" })).toThrow(/LG_MAX_BODY: at least 1024/);
  });
});
