import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { repoRoot } from "./infra-fixture";

const deployDir = path.join(repoRoot, "deploy");
const read = (rel: string) => fs.readFile(path.join(repoRoot, rel), "utf8");

/** The environment lg documents, per program (the names users and scripts depend on). */
const COORDINATOR_ENV = [
  "HOST",
  "PORT",
  "NATS_URL",
  "NATS_CREDS",
  "LG_NATS_SIGNING_KEY",
  "DATABASE_URL",
  "LG_DATA_DIR",
  "LG_ALLOW_TARGETS",
  "LOG_LEVEL",
];
const AGENT_ENV = [
  "NATS_URL",
  "NATS_CREDS",
  "LG_ALLOW_TARGETS",
  "LG_AGENT_ID",
  "LG_REGION",
  "LG_ROLE",
  "LG_PUBLIC_ADDRS",
  "LG_MAX_TRACES",
  "LG_DATA_DIR",
  "LG_DRAIN_TIMEOUT",
  "LOG_LEVEL",
];

/** `Key=value` lines of a unit file, in order. */
function unitSettings(text: string, key: string): string[] {
  return [...text.matchAll(new RegExp(`^${key}=(.*)$`, "gm"))].map((m) => (m[1] as string).trim());
}

function verify(files: string[], cwd: string): string {
  const r = spawnSync("systemd-analyze", ["verify", ...files], { cwd, encoding: "utf8", timeout: 60_000 });
  return `${r.stdout}${r.stderr}`.trim() + (r.status === 0 ? "" : `\n(exit ${r.status})`);
}

/**
 * Runs mtr-packet the way systemd runs it under a unit: an unprivileged user, the unit's
 * ambient and bounding capabilities and no_new_privs. A shell stands in for the agent (like
 * node, it holds only what the unit grants) and starts mtr-packet, which sends one ICMP probe
 * to 127.0.0.1. Resolves with its output.
 */
function probeLoopbackLikeUnit(unit: string): Promise<string> {
  const caps = (key: string) =>
    unitSettings(unit, key)
      .flatMap((v) => v.split(/\s+/))
      .filter(Boolean)
      .map((c) => `+${c.toLowerCase().replace(/^cap_/, "")}`);
  const ambient = caps("AmbientCapabilities");
  const bounding = caps("CapabilityBoundingSet");
  const args = ["--reuid=nobody", "--regid=nogroup", "--clear-groups"];
  if (ambient.length) args.push(`--inh-caps=-all,${ambient}`, `--ambient-caps=${ambient}`);
  if (bounding.length) args.push(`--bounding-set=-all,${bounding}`);
  if (unitSettings(unit, "NoNewPrivileges").at(-1) === "yes") args.push("--no-new-privs");
  return new Promise((resolve, reject) => {
    const child = spawn("setpriv", [...args, "/bin/sh", "-c", "exec mtr-packet"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    // mtr-packet stops at the end of its input: close it once the probe's one answer line is in
    // (or after 15 s, when even a no-reply, 10 s after the probe, should have come).
    const giveUp = setTimeout(() => child.stdin.end(), 15_000);
    child.stdout.on("data", (d: Buffer) => {
      output += d.toString();
      if (output.includes("\n")) child.stdin.end();
    });
    child.stderr.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.once("error", reject);
    child.once("exit", () => {
      clearTimeout(giveUp);
      resolve(output.trim());
    });
    child.stdin.on("error", () => {});
    child.stdin.write("1 send-probe ip-4 127.0.0.1 ttl 64\n");
  });
}

describe("systemd units (deploy/systemd)", { timeout: 60_000 }, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "lg-units-"));
    // The units run /opt/lg/bin/lg; verify them against this checkout's launcher.
    for (const unit of ["lg-agent.service", "lg-coordinator.service"]) {
      const text = await read(`deploy/systemd/${unit}`);
      await fs.writeFile(
        path.join(dir, unit),
        text.replaceAll("/opt/lg/bin/lg", path.join(repoRoot, "bin/lg")),
      );
    }
    await fs.mkdir(path.join(dir, "nats-server.service.d"));
    await fs.copyFile("/lib/systemd/system/nats-server.service", path.join(dir, "nats-server.service"));
    await fs.copyFile(
      path.join(deployDir, "systemd/nats-server.service.d/lg.conf"),
      path.join(dir, "nats-server.service.d/lg.conf"),
    );
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("the agent and coordinator units, and Debian's nats-server unit with the lg drop-in, pass `systemd-analyze verify` without a warning", () => {
    expect(verify(["./lg-agent.service", "./lg-coordinator.service"], dir)).toBe("");
    expect(verify(["./nats-server.service"], dir)).toBe("");
  });

  it("the verification can fail: a misspelt setting in the drop-in is reported", async () => {
    const bad = path.join(dir, "nats-server.service.d/zz-bad.conf");
    await fs.writeFile(bad, "[Service]\nKillSignall=SIGUSR2\n");
    try {
      expect(verify(["./nats-server.service"], dir)).toMatch(/Unknown key 'KillSignall'/);
    } finally {
      await fs.rm(bad);
    }
  });

  it("the agent runs unprivileged with CAP_NET_RAW as its only capability, and the coordinator with none", async () => {
    const agent = await read("deploy/systemd/lg-agent.service");
    expect(unitSettings(agent, "User")).toEqual(["lg-agent"]);
    expect(unitSettings(agent, "CapabilityBoundingSet")).toEqual(["CAP_NET_RAW"]);
    expect(unitSettings(agent, "AmbientCapabilities")).toEqual(["CAP_NET_RAW"]);
    const coordinator = await read("deploy/systemd/lg-coordinator.service");
    expect(unitSettings(coordinator, "User")).toEqual(["lg"]);
    expect(unitSettings(coordinator, "CapabilityBoundingSet")).toEqual([""]);
    const sysusers = await read("deploy/systemd/lg.sysusers.conf");
    expect(sysusers).toMatch(/^u lg-agent /m);
    expect(sysusers).toMatch(/^u lg /m);
  });

  it("under the agent unit's settings (no_new_privs on) mtr-packet, started by the agent, gets its reply from loopback", async () => {
    const agent = await read("deploy/systemd/lg-agent.service");
    expect(unitSettings(agent, "NoNewPrivileges")).toEqual(["yes"]);
    expect(await probeLoopbackLikeUnit(agent)).toMatch(/^1 reply ip-4 127\.0\.0\.1 round-trip-time \d+$/);
  });

  it("without the ambient capability, no_new_privs makes the kernel ignore mtr-packet's file capability", async () => {
    const agent = (await read("deploy/systemd/lg-agent.service")).replace(/^AmbientCapabilities=.*$/m, "");
    const output = await probeLoopbackLikeUnit(agent);
    expect(output).toMatch(/Permission denied/);
    expect(output).not.toMatch(/reply/);
  });

  it("the units set only documented environment variables", async () => {
    for (const [unit, names] of [
      ["lg-agent.service", AGENT_ENV],
      ["lg-coordinator.service", COORDINATOR_ENV],
    ] as const) {
      const text = await read(`deploy/systemd/${unit}`);
      const set = unitSettings(text, "Environment").map((v) => v.split("=")[0]);
      expect(set.length).toBeGreaterThan(0);
      for (const name of set) expect(names, `${unit} sets ${name}`).toContain(name);
    }
  });
});

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  cap_add?: string[];
  cap_drop?: string[];
  security_opt?: string[];
}

describe("the compose file (deploy/compose.yaml)", () => {
  let services: Record<string, ComposeService>;
  beforeAll(async () => {
    services = (parseYaml(await read("deploy/compose.yaml")) as { services: Record<string, ComposeService> })
      .services;
  });

  it("parses and runs nats, postgres, one coordinator and one agent", () => {
    expect(Object.keys(services).sort()).toEqual(["agent", "coordinator", "nats", "postgres"]);
  });

  it("gives the coordinator and the agent only documented variables, pointing at the stack's own services", () => {
    const coordinator = services.coordinator?.environment ?? {};
    const agent = services.agent?.environment ?? {};
    for (const name of Object.keys(coordinator))
      expect(COORDINATOR_ENV, `coordinator ${name}`).toContain(name);
    for (const name of Object.keys(agent)) expect(AGENT_ENV, `agent ${name}`).toContain(name);
    expect(new URL(coordinator.NATS_URL as string).hostname).toBe("nats");
    expect(new URL(agent.NATS_URL as string).hostname).toBe("nats");
    expect(new URL((coordinator.DATABASE_URL as string).replace(/\$\{[^}]+\}/g, "x")).hostname).toBe(
      "postgres",
    );
    expect(coordinator.HOST).toBe("0.0.0.0");
    expect(["pop", "neutral"]).toContain(agent.LG_ROLE);
    expect(services.coordinator?.depends_on?.postgres?.condition).toBe("service_healthy");
  });

  it("lets the agent keep only NET_RAW, without no-new-privileges (which would void mtr-packet's file capability)", () => {
    expect(services.agent?.cap_drop).toEqual(["ALL"]);
    expect(services.agent?.cap_add).toEqual(["NET_RAW"]);
    expect(services.agent?.security_opt ?? []).not.toContain("no-new-privileges:true");
    expect(services.coordinator?.cap_drop).toEqual(["ALL"]);
    expect(services.coordinator?.security_opt).toContain("no-new-privileges:true");
  });

  it("builds every image it does not pull from a Containerfile in this repository, with the repository as context", async () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.image) continue;
      expect(service.build?.context, name).toBe("..");
      await expect(
        fs.access(path.join(repoRoot, service.build?.dockerfile as string)),
        name,
      ).resolves.toBeUndefined();
    }
  });
});

/** Instructions of a Containerfile, continuation lines joined. */
function instructions(text: string): { op: string; args: string }[] {
  return text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: (op as string).toUpperCase(), args: rest.join(" ") };
    });
}

describe("container files (deploy/container)", { timeout: 60_000 }, () => {
  const images = [
    { file: "Containerfile.agent", command: "agent", apt: ["libcap2-bin", "mtr-tiny"], user: "lg-agent" },
    { file: "Containerfile.coordinator", command: "coordinator", apt: [], user: "lg" },
    { file: "Containerfile.nats", command: undefined, apt: ["nats-server"], user: "nats" },
  ];

  it.each(images)(
    "$file: Debian-based stages, runs as $user, installs packages that exist in Debian",
    async (image) => {
      const steps = instructions(await read(`deploy/container/${image.file}`));
      const args = Object.fromEntries(
        steps.filter((s) => s.op === "ARG").map((s) => s.args.split("=") as [string, string]),
      );
      const bases = steps.filter((s) => s.op === "FROM").map((s) => s.args.split(/\s+/)[0] as string);
      for (const base of bases)
        expect(base.replace(/\$\{(\w+)\}/, (_, a: string) => args[a] ?? "")).toMatch(/bookworm/);
      const users = steps.filter((s) => s.op === "USER").map((s) => s.args);
      expect(users.at(-1)).toBe(image.user);
      const installed = steps
        .filter((s) => s.op === "RUN")
        .flatMap((s) => [
          ...s.args.matchAll(/apt-get install -y --no-install-recommends ([\w\s.-]+?)(?:&&|$)/g),
        ])
        .flatMap((m) => (m[1] as string).trim().split(/\s+/));
      expect(installed.sort()).toEqual([...image.apt].sort());
      for (const pkg of installed) {
        expect(spawnSync("apt-cache", ["show", pkg], { encoding: "utf8" }).status, pkg).toBe(0);
      }
      await expect(
        fs.access(path.join(deployDir, "container", `${image.file}.dockerignore`)),
      ).resolves.toBeUndefined();
    },
  );

  it.each(images.filter((i) => i.command))(
    "$file: starts `lg $command`, a command the lg launcher knows, built with the pinned pnpm",
    async (image) => {
      const steps = instructions(await read(`deploy/container/${image.file}`));
      const entrypoint = JSON.parse(steps.find((s) => s.op === "ENTRYPOINT")?.args ?? "[]") as string[];
      const cmd = JSON.parse(steps.find((s) => s.op === "CMD")?.args ?? "[]") as string[];
      expect(entrypoint).toEqual(["/opt/lg/bin/lg"]);
      expect(cmd).toEqual([image.command]);
      const copied = steps.find((s) => s.op === "COPY" && s.args.startsWith("--from=build"))?.args;
      expect(copied).toBe("--from=build /src /opt/lg");
      const help = spawnSync(path.join(repoRoot, "bin/lg"), [image.command as string, "--help"], {
        encoding: "utf8",
        timeout: 60_000,
      });
      expect(help.status, help.stderr).toBe(0);
      const rootPackage = JSON.parse(await read("package.json")) as { packageManager: string };
      const pnpm = /npm install -g (pnpm@[\d.]+)/.exec(steps.map((s) => s.args).join("\n"))?.[1];
      expect(pnpm).toBe(rootPackage.packageManager);
      expect(steps.some((s) => s.args.includes("pnpm --filter @lg/cli run build"))).toBe(true);
      const cli = JSON.parse(await read("apps/cli/package.json")) as { scripts: Record<string, string> };
      expect(cli.scripts.build).toBeDefined();
    },
  );

  it("Containerfile.nats copies a config that exists and serves JetStream on all interfaces", async () => {
    const steps = instructions(await read("deploy/container/Containerfile.nats"));
    const copy = steps.find((s) => s.op === "COPY")?.args.split(/\s+/) ?? [];
    const conf = await read(copy[0] as string);
    expect(conf).toMatch(/listen: "0\.0\.0\.0:4222"/);
    expect(conf).toMatch(/jetstream \{/);
    expect(JSON.parse(steps.find((s) => s.op === "CMD")?.args ?? "[]")).toEqual(["-c", copy[1]]);
  });
});
