import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type NatsServer, startNatsServer } from "@lg/services";
import { connect } from "@nats-io/transport-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { type RunningCoordinator, startCoordinator } from "../../src/coordinator";
import { repoRoot, waitFor } from "../harness";
import { makeCa, type TestPki } from "../kit/tls";

function httpsGet(url: string, ca?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ...(ca ? { ca } : {}), timeout: 10_000 }, (res) => {
      let body = "";
      res.on("data", (d) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

function httpsPost(url: string, json: unknown, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: "POST", ca, headers: { "content-type": "application/json" } },
      (res) => {
        let body = "";
        res.on("data", (d) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify(json));
  });
}

describe("TLS for HTTP and NATS with a private CA", () => {
  let dir: string;
  let nats: NatsServer;
  let coord: RunningCoordinator;
  let agent: ChildProcess;
  let agentOut = "";
  let pki: TestPki;
  let otherPki: TestPki;
  let ca: Buffer;
  let natsTlsUrl: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lg-tls-"));
    pki = await makeCa(dir, "lg");
    otherPki = await makeCa(dir, "other");
    ca = await readFile(pki.ca);
    nats = await startNatsServer({
      dataDir: join(dir, "nats"),
      config: `tls { cert_file: ${JSON.stringify(pki.cert)}, key_file: ${JSON.stringify(pki.key)}, timeout: 5 }`,
    });
    natsTlsUrl = `tls://127.0.0.1:${nats.port}`;
    coord = await startCoordinator(
      loadConfig({
        PORT: "0",
        NATS_URL: natsTlsUrl,
        LG_DATA_DIR: dir,
        LG_ALLOW_TARGETS: "127.0.0.0/8",
        LG_TLS_CA: pki.ca,
        LG_TLS_CERT: pki.cert,
        LG_TLS_KEY: pki.key,
      }),
      { logger: pino({ level: "silent" }) },
    );
    agent = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "apps/cli/src/main.ts"), "agent"], {
      cwd: repoRoot,
      env: {
        ...process.env,
        NATS_URL: natsTlsUrl,
        LG_TLS_CA: pki.ca,
        LG_AGENT_ID: "tls-a",
        LG_ALLOW_TARGETS: "127.0.0.0/8",
        LG_PUBLIC_ADDRS: "127.0.0.1",
        LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    agent.stdout?.on("data", (d) => {
      agentOut += d;
    });
    agent.stderr?.on("data", (d) => {
      agentOut += d;
    });
  }, 60_000);

  afterAll(async () => {
    if (agent && agent.exitCode === null) {
      const exited = new Promise((r) => agent.once("exit", r));
      agent.kill("SIGTERM");
      await exited;
    }
    await coord?.stop();
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("the coordinator serves HTTPS with the CA's certificate; without the CA the client refuses it", async () => {
    expect(coord.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const ok = await httpsGet(`${coord.url}/healthz`, ca);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ status: "ok" });
    const untrusted = await httpsGet(`${coord.url}/healthz`).catch((e: NodeJS.ErrnoException) => e);
    expect((untrusted as NodeJS.ErrnoException).code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
    // Plain HTTP on the TLS port gets no HTTP answer.
    await expect(fetch(coord.url.replace("https:", "http:"))).rejects.toThrow();
  });

  it("NATS accepts a client that trusts the CA and refuses one that does not", async () => {
    const good = await connect({ servers: natsTlsUrl, tls: { caFile: pki.ca }, maxReconnectAttempts: 0 });
    expect(good.info?.tls_required).toBe(true);
    await good.close();
    await expect(
      connect({ servers: natsTlsUrl, tls: { caFile: otherPki.ca }, maxReconnectAttempts: 0, timeout: 5_000 }),
    ).rejects.toThrow();
    await expect(
      connect({ servers: `nats://127.0.0.1:${nats.port}`, maxReconnectAttempts: 0, timeout: 5_000 }),
    ).rejects.toThrow();
  });

  it("an agent dialling NATS over TLS comes online and a measurement over HTTPS completes", async () => {
    await waitFor(
      "agent tls-a online",
      async () => {
        const r = await httpsGet(`${coord.url}/api/v1/agents`, ca);
        return (JSON.parse(r.body) as { id: string; online: boolean }[]).some(
          (a) => a.id === "tls-a" && a.online,
        );
      },
      30_000,
    ).catch((err) => {
      throw new Error(`${(err as Error).message}; agent output: ${agentOut}`);
    });
    const res = await httpsPost(
      `${coord.url}/api/v1/measurements`,
      { target: "127.0.0.1", count: 1, from: ["tls-a"] },
      ca,
    );
    expect(res.status).toBe(202);
    const { id } = JSON.parse(res.body) as { id: string };
    const m = await waitFor("measurement done", async () => {
      const r = JSON.parse((await httpsGet(`${coord.url}/api/v1/measurements/${id}`, ca)).body) as {
        status: string;
        traces: { status: string; hops: unknown[] }[];
      };
      return r.status === "done" ? r : undefined;
    });
    expect(m.traces[0]?.status).toBe("done");
    expect(m.traces[0]?.hops.length).toBeGreaterThan(0);
  }, 60_000);

  it("a TLS variable that names a missing file stops the coordinator at start with one line naming it", () => {
    expect(() =>
      loadConfig({ NATS_URL: natsTlsUrl, LG_TLS_CERT: join(dir, "nope.pem"), LG_TLS_KEY: pki.key }),
    ).toThrow(/^LG_TLS_CERT: cannot read .*nope\.pem: ENOENT$/);
    expect(() => loadConfig({ NATS_URL: natsTlsUrl, LG_TLS_CERT: pki.cert })).toThrow(
      /LG_TLS_KEY is not set/,
    );
  });
});
