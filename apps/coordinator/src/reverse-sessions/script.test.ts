import { mkdtemp, rm, symlink } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runToEnd } from "../../test/kit/process";
import { joinCommand, joinScript } from "./script";

/** Runs a shell command line the way a customer's shell would, collecting its output. */
const sh = (command: string, path = `${dirname(process.execPath)}:/usr/bin:/bin`) =>
  runToEnd(["/bin/sh", "-c", command], { env: { PATH: path } });

/**
 * The join command and script against a real HTTP server on 127.0.0.1 that serves what a
 * coordinator would, and fails the ways a network does: 404, a closed port, a cut-off body.
 */
describe("join command and script", () => {
  let server: Server;
  let base: string;
  /** A port nothing listens on (bound, then closed). */
  let closedPort: number;
  const bodies = new Map<string, string>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = (req.url ?? "").split("?")[0] as string;
      if (path === "/cut.sh") {
        // Promises a longer body than it sends, then drops the connection.
        res.writeHead(200, { "content-length": "1000" });
        res.write("echo ran-half-a-script\n");
        setTimeout(() => res.destroy(), 50);
        return;
      }
      const body = bodies.get(path);
      if (body === undefined) res.writeHead(404).end("not found");
      else res.writeHead(200, { "content-type": "text/plain" }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    closedPort = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));

    bodies.set("/exit3.sh", "#!/bin/sh\necho ran-the-script\nexit 3\n");
    bodies.set("/lg-join.mjs", "console.log('joined', process.argv[2]);\n");
    const session = (bundle: string) =>
      joinScript({
        sessionId: "s1",
        bundleUrl: `${base}${bundle}`,
        binaryUrl: `${base}/lg-join-linux-x64`,
        joinUrl: `${base}/join?token=t`,
      });
    bodies.set("/join.sh", session("/lg-join.mjs"));
    bodies.set("/join-no-bundle.sh", session("/missing.mjs"));
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
  });

  it("runs the downloaded script and exits with its status", async () => {
    const r = await sh(joinCommand(`${base}/exit3.sh?token=t`));
    expect(r.stdout).toBe("ran-the-script\n");
    expect(r.code).toBe(3);
  });

  it("fails with one line and exit 1 when the script is not found (404)", async () => {
    const r = await sh(joinCommand(`${base}/nosuch.sh?token=t`));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(
      `lg join: could not download the join script from ${base}/nosuch.sh?token=t\n`,
    );
  });

  it("fails with exit 1 when the coordinator cannot be reached", async () => {
    const r = await sh(joinCommand(`http://127.0.0.1:${closedPort}/join.sh?token=t`));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("lg join: could not download the join script");
  });

  it("runs nothing of a download that was cut off", async () => {
    const r = await sh(joinCommand(`${base}/cut.sh?token=t`));
    expect(r.stdout).not.toContain("ran-half-a-script");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("lg join: could not download the join script");
  });

  it("fails with exit 1 on a machine without curl", async () => {
    const bin = await mkdtemp(join(tmpdir(), "lg-join-bin-"));
    try {
      await symlink("/bin/sh", join(bin, "sh"));
      const r = await sh(joinCommand(`${base}/exit3.sh?token=t`), bin);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain("lg join: could not download the join script");
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  });

  it("the join script downloads the join agent and runs it with the join URL", async () => {
    const r = await sh(joinCommand(`${base}/join.sh?token=t`));
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`joined ${base}/join?token=t\n`);
    expect(r.code).toBe(0);
  });

  it("the join script fails with one line and exit 1 when the join agent cannot be downloaded", async () => {
    const r = await sh(joinCommand(`${base}/join-no-bundle.sh?token=t`));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("lg join: could not download the join agent\n");
  });
});
