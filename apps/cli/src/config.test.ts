import { describe, expect, it } from "vitest";
import { DEFAULT_API_URL, loadCliConfig } from "./config";

describe("loadCliConfig", () => {
  it("talks to the local coordinator and logs warnings only when nothing is set", () => {
    const config = loadCliConfig({});
    expect(config).toMatchObject({
      apiUrl: DEFAULT_API_URL,
      apiKey: undefined,
      natsUrl: undefined,
      allowTargets: "",
      probeHelper: undefined,
      logLevel: "warn",
    });
  });

  it("reads where lg trace finds lg-probe (LG_PROBE_HELPER)", () => {
    expect(loadCliConfig({ LG_PROBE_HELPER: "/opt/lg/lg-probe" }).probeHelper).toBe("/opt/lg/lg-probe");
  });

  it("counts empty variables as unset and drops the API URL's trailing slashes", () => {
    const config = loadCliConfig({ LG_API_URL: "https://lg.example.net//", LG_API_KEY: " ", NATS_URL: "" });
    expect(config).toMatchObject({ apiUrl: "https://lg.example.net", apiKey: undefined, natsUrl: undefined });
  });

  it("keeps the whole environment for the coordinator's and agent's own schemas", () => {
    expect(loadCliConfig({ PORT: "9000", LG_DATA_DIR: "/var/lib/lg" }).environment).toEqual({
      PORT: "9000",
      LG_DATA_DIR: "/var/lib/lg",
    });
  });

  it.each([
    [{ LG_API_URL: "127.0.0.1:8080" }, /^LG_API_URL must be the coordinator's http\(s\) URL/],
    [{ LOG_LEVEL: "loud" }, /^LOG_LEVEL: /],
  ])("refuses %o in one line naming the variable, as a usage error", (env, message) => {
    expect(() => loadCliConfig(env)).toThrow(message);
    expect(() => loadCliConfig(env)).toThrow(expect.objectContaining({ exitCode: 2 }));
  });
});
