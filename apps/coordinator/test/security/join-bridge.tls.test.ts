import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCa, type TestPki } from "../kit/tls";
import { type BridgeLab, connectLine, openRaw, startBridgeLab } from "./join-bridge-kit";

/**
 * The reverse-session bridge towards a nats-server that requires TLS (as a deployment's
 * `NATS_URL=tls://…` servers do): it greets in plain text, the bridge switches to TLS, checks the
 * server's certificate against `LG_TLS_CA`, and the join client never sees any of it.
 */
describe("join bridge towards a NATS server that requires TLS", () => {
  let dir: string;
  let pki: TestPki;
  let other: TestPki;
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
