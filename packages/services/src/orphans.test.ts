import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { sleep } from "./ports";

const fixture = path.resolve(import.meta.dirname, "fixtures/start-and-hang.ts");

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Starts a service from a separate node process, kills that process with SIGKILL, and reports whether the service outlived it. */
async function serviceOutlivesKilledParent(service: "nats" | "postgres"): Promise<boolean> {
  // `node --import tsx` rather than the tsx launcher, which would put one more process in between.
  const parent = spawn(process.execPath, ["--import", "tsx", fixture, service], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const { pid, dir } = await new Promise<{ pid: number; dir: string }>((resolve, reject) => {
    parent.stdout.once("data", (chunk: Buffer) => resolve(JSON.parse(chunk.toString())));
    parent.once("exit", (code) => reject(new Error(`fixture exited with ${code}`)));
  });
  try {
    expect(alive(pid)).toBe(true);
    parent.kill("SIGKILL");
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
    return alive(pid);
  } finally {
    if (alive(pid)) process.kill(pid, "SIGKILL");
    await sleep(200);
    await fs.rm(dir, { recursive: true, force: true });
  }
}

describe("service children", () => {
  it("a nats-server child dies when its parent is killed with SIGKILL", async () => {
    expect(await serviceOutlivesKilledParent("nats")).toBe(false);
  }, 30_000);

  it("a postgres child running as the postgres user dies when its parent is killed with SIGKILL", async () => {
    expect(await serviceOutlivesKilledParent("postgres")).toBe(false);
  }, 60_000);
});
