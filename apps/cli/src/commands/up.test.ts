import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { AgentView, MeasurementAccepted, MeasurementView } from "@lg/protocol";
import { findFreePort } from "@lg/services";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../../../..");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const accepts = (port: number) =>
  new Promise<boolean>((done) => {
    const s = connect({ host: "127.0.0.1", port }, () => {
      s.destroy();
      done(true);
    });
    s.on("error", () => done(false));
  });

describe("lg up", () => {
  it("runs NATS, the embedded database, the coordinator and one agent, traces, and stops everything on Ctrl-C", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "lg-up-"));
    const port = await findFreePort();
    const child = spawn(process.execPath, ["--import", "tsx", join(root, "apps/cli/src/main.ts"), "up"], {
      cwd: root,
      env: {
        ...process.env,
        LG_DATA_DIR: dataDir,
        PORT: String(port),
        LG_ALLOW_TARGETS: "127.0.0.0/8",
        LG_AGENT_ID: "upagent",
        NATS_URL: "",
        DATABASE_URL: "",
      },
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    try {
      const url = `http://127.0.0.1:${port}`;
      for (let i = 0; !out.includes("lg is up:"); i++) {
        if (i > 600) throw new Error(`lg up did not start:\n${out}`);
        await sleep(100);
      }
      expect(out).toContain(`lg is up: ${url}`);
      const natsPort = Number(/NATS\s+nats:\/\/127\.0\.0\.1:(\d+) \(child process\)/.exec(out)?.[1]);
      expect(natsPort).toBeGreaterThan(0);
      expect(out).toContain(`PGlite in ${join(dataDir, "pg")}`);

      for (let i = 0; ; i++) {
        const agents = (await (await fetch(`${url}/api/v1/agents`)).json()) as AgentView[];
        if (agents.some((a) => a.id === "upagent" && a.online)) break;
        if (i > 300) throw new Error(`the local agent did not come online:\n${out}`);
        await sleep(100);
      }
      const res = await fetch(`${url}/api/v1/measurements`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ target: "127.0.0.1", count: 2, interval: 0.5 }),
      });
      expect(res.status).toBe(202);
      const { id } = (await res.json()) as MeasurementAccepted;
      let m: MeasurementView | undefined;
      for (let i = 0; i < 300; i++) {
        m = (await (await fetch(`${url}/api/v1/measurements/${id}`)).json()) as MeasurementView;
        if (m.status === "done") break;
        await sleep(100);
      }
      expect(m?.traces.map((t) => [t.agentId, t.status])).toEqual([["upagent", "done"]]);

      child.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(await accepts(port)).toBe(false);
      expect(await accepts(natsPort)).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
