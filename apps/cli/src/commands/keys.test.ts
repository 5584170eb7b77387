import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const lg = resolve(import.meta.dirname, "../../../../bin/lg");

describe("lg keys", { timeout: 60_000 }, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lg-keys-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function lgKeys(...args: string[]) {
    const env = { ...process.env, LG_FROM_SOURCE: "1", LG_DATA_DIR: dir, DATABASE_URL: "" };
    try {
      return { ...(await run(lg, ["keys", ...args], { env, timeout: 60_000 })), code: 0 };
    } catch (err) {
      const e = err as { stdout: string; stderr: string; code: number };
      return { stdout: e.stdout, stderr: e.stderr, code: e.code };
    }
  }

  it("create prints the key once, list shows its id and scopes but no secret, revoke marks it", async () => {
    const created = await lgKeys("create", "--scope", "audit,unlimited", "--label", "ops");
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^lgk_[0-9a-z]{12}_[A-Za-z0-9_-]{32}$/);
    const id = key.slice(4, 16);

    const listed = await lgKeys("list");
    expect(listed.stdout).toContain(`${id}\taudit,unlimited\tactive`);
    expect(listed.stdout).not.toContain(key.slice(17));

    expect((await lgKeys("revoke", id)).code).toBe(0);
    expect((await lgKeys("list")).stdout).toMatch(new RegExp(`${id}\\taudit,unlimited\\trevoked `));
    const again = await lgKeys("revoke", id);
    expect(again.code).toBe(1);
    expect(again.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("an unknown scope is a one-line error with exit code 2", async () => {
    const r = await lgKeys("create", "--scope", "root");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown scope 'root'/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});
