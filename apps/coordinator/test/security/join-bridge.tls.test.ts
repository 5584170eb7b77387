import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BridgeLab, connectLine, openRaw, startBridgeLab } from "./join-bridge-kit";

/** A private CA and a certificate for 127.0.0.1 signed by it, made with openssl. */
async function makeCa(dir: string, name: string) {
  const f = (x: string) => join(dir, `${name}-${x}`);
  const ssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  ssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    `/CN=${name} CA`,
    "-keyout",
    f("ca.key"),
    "-out",
    f("ca.pem"),
  );
  ssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=localhost",
    "-keyout",
    f("server.key"),
    "-out",
    f("server.csr"),
  );
  await writeFile(f("ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  ssl(
    "x509",
    "-req",
    "-in",
    f("server.csr"),
    "-CA",
    f("ca.pem"),
    "-CAkey",
    f("ca.key"),
    "-CAcreateserial",
    "-days",
    "1",
    "-extfile",
    f("ext"),
    "-out",
    f("server.pem"),
  );
  return { ca: f("ca.pem"), cert: f("server.pem"), key: f("server.key") };
}

/**
 * The reverse-session bridge towards a nats-server that requires TLS (as a deployment's
 * `NATS_URL=tls://…` servers do): it greets in plain text, the bridge switches to TLS, checks the
 * server's certificate against `LG_TLS_CA`, and the join client never sees any of it.
 */
describe("join bridge towards a NATS server that requires TLS", () => {
  let dir: string;
  let pki: Awaited<ReturnType<typeof makeCa>>;
  let other: Awaited<ReturnType<typeof makeCa>>;
  const labs: BridgeLab[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lg-bridge-tls-"));
    pki = await makeCa(dir, "lg");
    other = await makeCa(dir, "other");
  }, 60_000);
  afterAll(async () => {
    for (const lab of labs) await lab.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function lab(natsUrl: (port: number) => string, caFile: string) {
    const l = await startBridgeLab({
      natsConfig: `tls { cert_file: ${JSON.stringify(pki.cert)}, key_file: ${JSON.stringify(pki.key)}, timeout: 5 }`,
      trustedTls: { caFile: pki.ca },
      natsUrl,
      bridge: { natsTls: { caFile } },
    });
    labs.push(l);
    return l;
  }

  it("a join client's publish reaches the TLS server through the bridge (a tls:// URL, or nats:// to a server that requires TLS)", async () => {
    for (const scheme of ["tls", "nats"]) {
      // The first server of the list is down: the bridge goes on to the next.
      const l = await lab((port) => `nats://127.0.0.1:1,${scheme}://127.0.0.1:${port}`, pki.ca);
      const s = l.addSession("join-tls");
      const c = await openRaw(l.wsUrl(s.id));
      c.send(`${connectLine("join-tls", s.token)}PUB lg.presence.join-tls 2\r\nhi\r\nPING\r\n`);
      expect(await c.waitFor(/PONG\r\n/), c.received()).toBe(true);
      expect(c.received()).not.toMatch(/tls_required|tls_verify|nonce/);
      await l.trusted.flush();
      expect(l.spy.some((m) => m.subject === "lg.presence.join-tls" && m.data.toString() === "hi")).toBe(
        true,
      );
      c.close();
    }
  });

  it("a server certificate from another CA is refused: no join connection (503)", async () => {
    const l = await lab((port) => `tls://127.0.0.1:${port}`, other.ca);
    const s = l.addSession("join-tls");
    await expect(openRaw(l.wsUrl(s.id))).rejects.toThrow("HTTP 503");
    expect((await l.serverSubscriptions()).has("join-tls")).toBe(false);
  });
});
