import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { JITTER_ORDER } from "@lg/tracer";
import { describe, expect, it } from "vitest";
import { CliError } from "../errors";
import { JITTER_COLUMNS } from "./trace";
import { traceOptionsFromFlags } from "./trace-run";

const run = promisify(execFile);
const lg = resolve(import.meta.dirname, "../../../../bin/lg");

describe("lg trace --help", () => {
  it("names the tracer's own jitter columns without loading the tracer", () => {
    expect(JITTER_COLUMNS).toBe(JITTER_ORDER);
  });
});

describe("traceOptionsFromFlags", () => {
  it("maps mtr's flags to the engine's options", () => {
    const o = traceOptionsFromFlags({
      dns: false,
      reportCycles: "5",
      interval: "0.2",
      psize: "100",
      firstTtl: "2",
      maxTtl: "9",
      maxUnknown: "3",
      timeout: "2",
      udp: true,
      port: "33434",
      localport: "40000",
      tos: "16",
      inet: true,
    });
    expect(o).toMatchObject({
      count: 5,
      interval: 0.2,
      size: 100,
      firstTtl: 2,
      maxTtl: 9,
      maxUnknown: 3,
      timeout: 2,
      protocol: "udp",
      port: 33434,
      localPort: 40000,
      tos: 16,
      ipVersion: 4,
    });
  });
  it("--record-route asks for the Record Route hints; without it the options do not carry them", () => {
    expect(traceOptionsFromFlags({ dns: true, recordRoute: true }).recordRoute).toBe(true);
    expect(traceOptionsFromFlags({ dns: true })).not.toHaveProperty("recordRoute");
  });
  it.each([
    [{ reportCycles: "ten" }, '-c/--report-cycles: "ten" is not a whole number'],
    [{ psize: "5" }, "-s/--psize:"],
    [{ tcp: true, udp: true }, "-T/--tcp and -u/--udp exclude each other"],
    [{ port: "70000" }, "-P/--port:"],
  ])("refuses %o with one line naming the flag", (flags, message) => {
    expect(() => traceOptionsFromFlags({ dns: true, ...flags })).toThrow(CliError);
    expect(() => traceOptionsFromFlags({ dns: true, ...flags })).toThrow(message);
  });
});

describe("lg trace (real mtr-packet, loopback)", () => {
  const env = { ...process.env, LG_FROM_SOURCE: "1" };
  it("prints mtr's report when piped", async () => {
    const { stdout } = await run(lg, ["trace", "-n", "-c", "2", "-i", "0.05", "127.0.0.1"], { env });
    const lines = stdout.split("\n");
    // mtr's columns where mtr puts them, then the 95% loss interval
    expect(lines[1]).toMatch(/^HOST: \S+ +Loss% {3}Snt {3}Last {3}Avg {2}Best {2}Wrst StDev {5}Loss%CI$/);
    expect(lines[2]).toMatch(/^ {2}1\.\|-- 127\.0\.0\.1 +0\.0% +2 .* 0\.0-65\.8$/);
  });
  it("streams NDJSON events: start, hop updates, cycles, then done with the result", async () => {
    const { stdout } = await run(lg, ["trace", "--ndjson", "-n", "-c", "3", "-i", "0.05", "127.0.0.1"], {
      env,
    });
    const events = stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; cycle?: number; result?: { hops: { recv: number }[] } });
    expect(events[0]?.type).toBe("start");
    expect(events.at(-1)?.type).toBe("done");
    expect(events.at(-1)?.result?.hops[0]?.recv).toBe(3);
    expect(events.filter((e) => e.type === "cycle").map((e) => e.cycle)).toEqual([1, 2, 3]);
    expect(events.filter((e) => e.type === "hop").length).toBeGreaterThanOrEqual(3);
  });

  it("prints mtr's JSON with -j and mtr's CSV with -C", async () => {
    const json = await run(lg, ["trace", "-j", "-n", "-c", "2", "-i", "0.05", "127.0.0.1"], { env });
    const parsed = JSON.parse(json.stdout) as {
      report: { mtr: { dst: string }; hubs: { host: string; Snt: number }[] };
    };
    expect(parsed.report.mtr.dst).toBe("127.0.0.1");
    expect(parsed.report.hubs).toEqual([expect.objectContaining({ count: 1, host: "127.0.0.1", Snt: 2 })]);
    const csv = await run(lg, ["trace", "-C", "-n", "-c", "2", "-i", "0.05", "127.0.0.1"], { env });
    expect(csv.stdout.split("\n")[0]).toBe(
      "Mtr_Version,Start_Time,Status,Host,Hop,Ip,Loss%,Snt, ,Last,Avg,Best,Wrst,StDev,",
    );
  }, 20_000); // two runs of bin/lg from source: ~3 s each on a loaded machine

  it("exits 2 with one line on a bad flag", async () => {
    const err = (await run(lg, ["trace", "--bogus", "127.0.0.1"], { env }).catch((e: unknown) => e)) as {
      code: number;
      stderr: string;
    };
    expect(err.code).toBe(2);
    expect(err.stderr.trim().split("\n")).toHaveLength(1);
  });
  it("refuses --mda with --pin-flow in one line, as a usage error", async () => {
    const err = (await run(lg, ["trace", "-T", "--mda", "--pin-flow", "127.0.0.1"], { env }).catch(
      (e: unknown) => e,
    )) as { code: number; stderr: string };
    expect(err.code).toBe(2);
    expect(err.stderr).toBe(
      "lg: --mda varies the flow on purpose and --pin-flow holds it constant: use one of them\n",
    );
  });
  it("refuses --record-route towards an IPv6 address, and without lg-probe, in one line each", async () => {
    const v6 = (await run(lg, ["trace", "--record-route", "::1"], { env }).catch((e: unknown) => e)) as {
      code: number;
      stderr: string;
    };
    expect(v6.code).toBe(2);
    expect(v6.stderr).toMatch(/^lg: --record-route: Record Route is an IPv4 option and ::1 is IPv6; .*\n$/);
    const missing = { ...env, LG_PROBE_HELPER: "/nonexistent/lg-probe" };
    const err = (await run(lg, ["trace", "--record-route", "127.0.0.1"], { env: missing }).catch(
      (e: unknown) => e,
    )) as { code: number; stderr: string };
    expect(err.code).toBe(2);
    expect(err.stderr).toMatch(/^lg: --record-route: the Record Route option needs lg-probe, .*\n$/);
  }, 20_000);
  it("without lg-probe refuses a pinned TCP flow in one line naming what to run, as a usage error", async () => {
    const missing = { ...env, LG_PROBE_HELPER: "/nonexistent/lg-probe" };
    const err = (await run(lg, ["trace", "-T", "-P", "443", "-L", "40000", "127.0.0.1"], {
      env: missing,
    }).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(2);
    expect(err.stderr).toBe(
      "lg: -L/--localport over IPv4 TCP: a fixed TCP source port needs lg-probe, lg's own probe helper, which is not installed (looked for /nonexistent/lg-probe): run ./scripts/setup (it builds lg-probe and installs it as /usr/local/libexec/lg/lg-probe) or set LG_PROBE_HELPER to its path\n",
    );
  });
});
