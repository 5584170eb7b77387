import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { randomPrefix } from "@lg/netlab";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const lg = resolve(import.meta.dirname, "../../../../bin/lg");

/** Runs bin/lg and returns its output and exit code instead of throwing on failure. */
async function lgRun(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const r = await run(lg, args, { env: { ...process.env, LG_FROM_SOURCE: "1" }, timeout: 60_000 });
    return { ...r, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

// Builds the reference lab under a per-run prefix with lg lab up, uses it, and removes it.
describe("lg lab", { timeout: 60_000 }, () => {
  const prefix = randomPrefix();
  afterAll(async () => {
    await lgRun("lab", "down", "--prefix", prefix);
  });

  it("up leaves the lab running after the command exits and prints nodes and scenarios", async () => {
    const up = await lgRun("lab", "up", "--prefix", prefix);
    expect(up.stderr).toBe("");
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(new RegExp(`lab "${prefix}" is up \\(35 namespaces`));
    expect(up.stdout).toMatch(/^ {2}fra +pop +198\.18\.1\.1 +2001:2:0:1::1 /m);
    expect(up.stdout).toMatch(/^ {2}throttle +fra -> 198\.18\.21\.2: /m);
    expect(up.stdout).toMatch(/^ {2}retloss +ams -> nyc \(IPv4\): /m);
    expect(up.stdout).toContain("directed loss in force at start: reta -> eams 25%");
    const again = await lgRun("lab", "up", "--prefix", prefix);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      `lg: lab "${prefix}" is already up (lg lab status shows it, lg lab down removes it)\n`,
    );
  });

  it("exec runs in the node and passes the exit code on", async () => {
    const ok = await lgRun("lab", "exec", "--prefix", prefix, "fra", "--", "ip", "-o", "-4", "addr", "show");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("198.18.1.1/24");
    expect((await lgRun("lab", "exec", "--prefix", prefix, "fra", "--", "sh", "-c", "exit 7")).code).toBe(7);
    // The delay wire outlived `lg lab up`: the hop behind it is ~50 ms away.
    const probe = await lgRun(
      "lab",
      "exec",
      "--prefix",
      prefix,
      "fra",
      "--",
      "sh",
      "-c",
      'printf "1 send-probe ip-4 198.18.82.2 timeout 2\\n" | mtr-packet',
    );
    const rttMicros = Number(/^1 reply ip-4 198\.18\.82\.2 round-trip-time (\d+)/.exec(probe.stdout)?.[1]);
    expect(rttMicros).toBeGreaterThanOrEqual(50_000);
  });

  it("loss switches a directed loss on and off in the running lab", async () => {
    const rules = async () =>
      (await lgRun("lab", "exec", "--prefix", prefix, "fwdb", "--", "iptables", "-S")).stdout;
    expect(await rules()).not.toContain("lg-loss-enyc");
    const on = await lgRun("lab", "loss", "--prefix", prefix, "fwdb", "enyc", "0.25");
    expect(on).toMatchObject({ code: 0, stdout: "fwdb now drops 25% of what it sends towards enyc\n" });
    expect(await rules()).toMatch(
      /-A lg-loss-enyc -o \S+-enyc -m statistic --mode random --probability 0\.25/,
    );
    const off = await lgRun("lab", "loss", "--prefix", prefix, "fwdb", "enyc", "0");
    expect(off.code).toBe(0);
    expect(await rules()).not.toContain("lg-loss-enyc");
    const bad = await lgRun("lab", "loss", "--prefix", prefix, "fwdb", "enyc", "25%");
    expect(bad).toMatchObject({
      code: 2,
      stderr: 'lg: probability (0 to 1): "25%" is not a number\n',
    });
    const stranger = await lgRun("lab", "loss", "--prefix", prefix, "fwdb", "sin", "0.5");
    expect(stranger).toMatchObject({ code: 1, stderr: 'lg: node fwdb has no link to "sin"\n' });
  });

  it("exec names the nodes when given an unknown one", async () => {
    const r = await lgRun("lab", "exec", "--prefix", prefix, "nope", "--", "true");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^lg: no node "nope" in lab "\w+" \(nodes: fra, sin, vm, cust, nat, /);
  });

  it("status lists the lab as left up, and down removes it", async () => {
    const status = await lgRun("lab", "status", "--json");
    const labs = (JSON.parse(status.stdout) as { labs: { prefix: string; persistent: boolean }[] }).labs;
    expect(labs.find((l) => l.prefix === prefix)?.persistent).toBe(true);
    const down = await lgRun("lab", "down", "--prefix", prefix);
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(new RegExp(`^lab "${prefix}" is down`));
    const gone = await run("ip", ["netns", "list"]);
    expect(gone.stdout).not.toContain(`${prefix}-`);
    const twice = await lgRun("lab", "down", "--prefix", prefix);
    expect(twice).toMatchObject({ code: 1, stderr: `lg: no lab "${prefix}" is up\n` });
  });
});
