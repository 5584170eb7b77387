import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupStaleLabs, listLabs } from "./control";
import { buildLab, type LabHandle, randomPrefix } from "./lab";
import { existingNamespaces, pidsInNamespaces, REGISTRY_DIR } from "./registry";
import { runChecked } from "./system";
import type { Topology } from "./topology";

// A two-node lab: a -- b on 198.18.0.0/30 and 2001:2::/64.
const pair: Topology = {
  nodes: { a: {}, b: {} },
  links: [
    {
      a: "a",
      b: "b",
      aAddr: { v4: "198.18.0.1/30", v6: "2001:2::1/64" },
      bAddr: { v4: "198.18.0.2/30", v6: "2001:2::2/64" },
    },
  ],
};

const namespacesOf = (prefix: string) => existingNamespaces().filter((ns) => ns.startsWith(`${prefix}-`));

describe("a two-node lab (a -- b)", { timeout: 20_000 }, () => {
  let lab: LabHandle;
  beforeAll(async () => {
    lab = await buildLab(pair);
  });
  afterAll(async () => {
    await lab?.down();
  });

  it("names namespaces and interfaces with the per-run prefix", async () => {
    expect(lab.prefix).toMatch(/^lg[a-z0-9]{4}$/);
    expect(lab.ns("a")).toBe(`${lab.prefix}-a`);
    expect(namespacesOf(lab.prefix).sort()).toEqual([`${lab.prefix}-a`, `${lab.prefix}-b`]);
    const links = await lab.exec("a", ["ip", "-o", "link", "show"]);
    expect(links.stdout).toContain(`${lab.prefix}-b@`);
  });

  it("exec passes stdout, stderr and the exit code without throwing", async () => {
    expect(await lab.exec("a", ["sh", "-c", "echo out; echo err >&2; exit 3"])).toEqual({
      stdout: "out\n",
      stderr: "err\n",
      code: 3,
    });
    expect((await lab.exec("b", ["cat"], { input: "piped" })).stdout).toBe("piped");
    expect((await lab.exec("b", ["sh", "-c", "echo $X"], { env: { X: "set" } })).stdout).toBe("set\n");
    expect((await lab.exec("a", ["sleep", "5"], { timeoutMs: 200 })).code).toBe(137);
    await expect(lab.exec("nosuch", ["true"])).rejects.toThrow(`no node "nosuch" in lab ${lab.prefix}`);
  });

  it("waitFor resolves once an address answers and rejects when it never does", async () => {
    await lab.waitFor("a", "198.18.0.2");
    await lab.waitFor("a", "2001:2::2");
    await expect(lab.waitFor("a", "198.18.0.3", { timeoutMs: 300 })).rejects.toThrow(/did not answer/);
  });

  it("spawn runs a long-lived process inside the node and stop() ends it", async () => {
    const proc = lab.spawn("b", ["sh", "-c", "readlink /proc/self/ns/net; exec sleep 60"]);
    let out = "";
    proc.stdout.on("data", (b: Buffer) => {
      out += b.toString();
    });
    await expect.poll(() => out, { timeout: 3000 }).toMatch(/net:\[/);
    const own = await lab.exec("b", ["readlink", "/proc/self/ns/net"]);
    expect(out.trim()).toBe(own.stdout.trim());
    expect(await proc.stop()).toBeNull();
    expect(await proc.exited).toBeNull();
  });

  it("refuses a second lab with the same prefix while the first is up", async () => {
    await expect(buildLab(pair, { prefix: lab.prefix })).rejects.toThrow(/already up/);
  });
});

describe("teardown", { timeout: 30_000 }, () => {
  it("down() removes namespaces and the registry record, and is idempotent", async () => {
    const lab = await buildLab(pair);
    expect(existsSync(`${REGISTRY_DIR}/${lab.prefix}.json`)).toBe(true);
    await lab.down();
    await lab.down();
    expect(namespacesOf(lab.prefix)).toEqual([]);
    expect(existsSync(`${REGISTRY_DIR}/${lab.prefix}.json`)).toBe(false);
  });

  it("down() also kills processes it did not start that live in the lab's namespaces", async () => {
    const lab = await buildLab(pair);
    const stray = spawn("ip", ["netns", "exec", lab.ns("b"), "sleep", "60"], { stdio: "ignore" });
    const exited = new Promise<string | null>((resolve) =>
      stray.once("exit", (_code, signal) => resolve(signal)),
    );
    await expect.poll(() => pidsInNamespaces([lab.ns("b")])).toContain(stray.pid);
    await lab.down();
    expect(await exited).toBe("SIGKILL");
  });

  it("refuses a prefix whose namespace already exists and leaves that namespace alone", async () => {
    const prefix = randomPrefix();
    await runChecked(["ip", "netns", "add", `${prefix}-b`]);
    try {
      await expect(buildLab(pair, { prefix })).rejects.toThrow(
        `network namespace ${prefix}-b already exists`,
      );
      expect(namespacesOf(prefix)).toEqual([`${prefix}-b`]);
    } finally {
      await runChecked(["ip", "netns", "del", `${prefix}-b`]);
    }
  });

  it("a build that fails half-way leaves nothing behind", async () => {
    const prefix = randomPrefix();
    const broken: Topology = {
      nodes: { a: { routes: [{ to: "198.18.9.0/24", via: "203.0.113.1" }] }, b: {} },
      links: pair.links,
    };
    await expect(buildLab(broken, { prefix })).rejects.toThrow(/failed/);
    expect(namespacesOf(prefix)).toEqual([]);
    expect(listLabs().some((l) => l.prefix === prefix)).toBe(false);
  });

  const owner = fileURLToPath(new URL("./fixtures/lab-owner.ts", import.meta.url));
  const startOwner = async (prefix: string) => {
    const child = spawn(process.execPath, ["--import", "tsx", owner, prefix], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
    });
    child.stderr.on("data", (b: Buffer) => {
      out += b.toString();
    });
    await expect.poll(() => out, { timeout: 15_000 }).toContain(`up ${prefix}`);
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    return { child, exited };
  };

  it("a lab whose process is killed outright is removed by the next cleanup", async () => {
    const prefix = randomPrefix();
    const { child, exited } = await startOwner(prefix);
    expect(namespacesOf(prefix)).toHaveLength(2);
    child.kill("SIGKILL");
    await exited;
    expect(namespacesOf(prefix)).toHaveLength(2);
    expect(listLabs().find((l) => l.prefix === prefix)?.alive).toBe(false);
    expect(await cleanupStaleLabs()).toContain(prefix);
    expect(namespacesOf(prefix)).toEqual([]);
  });

  it("a lab whose process gets SIGTERM is torn down by that process on its way out", async () => {
    const prefix = randomPrefix();
    const { child, exited } = await startOwner(prefix);
    child.kill("SIGTERM");
    await exited;
    expect(namespacesOf(prefix)).toEqual([]);
    expect(listLabs().some((l) => l.prefix === prefix)).toBe(false);
  });
});
