import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterEach, describe, expect, it } from "vitest";
import { type NatsServer, startNatsServer } from "./nats";
import { findFreePort } from "./ports";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("startNatsServer", () => {
  const started: NatsServer[] = [];
  const dirs: string[] = [];
  const tempDir = async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "lg-nats-test-"));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.stop()));
    await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
  });

  it("starts on a free port with JetStream and stops without leaving the process behind", async () => {
    const server = await startNatsServer({ dataDir: await tempDir() });
    started.push(server);
    expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);
    const nc = await connect({ servers: server.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "T", subjects: ["t.>"] });
    const ack = await jetstream(nc).publish("t.x", "hello", { msgID: "one" });
    expect(ack.seq).toBe(1);
    await nc.close();
    expect(alive(server.pid)).toBe(true);
    await server.stop();
    expect(alive(server.pid)).toBe(false);
    await expect(connect({ servers: server.url, reconnect: false, timeout: 500 })).rejects.toThrow();
  });

  it("restarts on the same port and data folder with the JetStream messages kept", async () => {
    const dataDir = await tempDir();
    const first = await startNatsServer({ dataDir });
    let nc = await connect({ servers: first.url });
    await (await jetstreamManager(nc)).streams.add({ name: "KEEP", subjects: ["keep.>"] });
    await jetstream(nc).publish("keep.a", "stored", { msgID: "m1" });
    await nc.close();
    await first.stop();

    const second = await startNatsServer({ dataDir, port: first.port });
    started.push(second);
    nc = await connect({ servers: second.url });
    const info = await (await jetstreamManager(nc)).streams.info("KEEP");
    expect(info.state.messages).toBe(1);
    await nc.close();
  });

  it("runs from a generated config file when extra configuration is given", async () => {
    const server = await startNatsServer({
      dataDir: await tempDir(),
      config: 'authorization { user: "alice", password: "s3cret" }',
    });
    started.push(server);
    await expect(connect({ servers: server.url, reconnect: false, timeout: 1_000 })).rejects.toThrow();
    const nc = await connect({ servers: server.url, user: "alice", pass: "s3cret" });
    const jsm = await jetstreamManager(nc);
    expect((await jsm.getAccountInfo()).streams).toBe(0);
    await nc.close();
  });

  it("accepts clients on an extra listen address", async () => {
    const extraPort = await findFreePort("127.0.0.2");
    const server = await startNatsServer({
      dataDir: await tempDir(),
      extraListen: [`127.0.0.2:${extraPort}`],
    });
    started.push(server);
    expect(server.extraUrls).toEqual([`nats://127.0.0.2:${extraPort}`]);
    const viaMain = await connect({ servers: server.url });
    const viaExtra = await connect({ servers: server.extraUrls[0] });
    const sub = viaMain.subscribe("greet", { max: 1 });
    await viaMain.flush();
    viaExtra.publish("greet", "hi");
    for await (const m of sub) expect(m.string()).toBe("hi");
    await viaExtra.close();
    await viaMain.close();
  });

  it("fails with the server's own words when the port is taken", async () => {
    const blocker = net.createServer();
    const port = await findFreePort();
    await new Promise<void>((r) => blocker.listen(port, "127.0.0.1", r));
    try {
      await expect(startNatsServer({ dataDir: await tempDir(), port })).rejects.toThrow(
        /address already in use/,
      );
    } finally {
      blocker.close();
    }
  });
});

describe("findFreePort", () => {
  it("returns a port that can be bound", async () => {
    const port = await findFreePort();
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", resolve);
    });
    server.close();
    expect(port).toBeGreaterThan(0);
  });
});
