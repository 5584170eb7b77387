import net from "node:net";

/**
 * Asks the kernel for a port that is free right now on `host` (bind to port 0, read it, close).
 * Another process may take it before the caller binds it, so starters retry on "address in use".
 */
export function findFreePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("no port assigned"))));
    });
  });
}

/** Connects once; resolves with the first bytes the server sends (or "" when it sends nothing in time). */
export function probeTcp(host: string, port: number, timeoutMs = 1_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let received = "";
    const done = (err?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(received);
    };
    const timer = setTimeout(() => done(), timeoutMs);
    socket.once("error", (err) => done(err));
    socket.on("data", (chunk) => {
      received += chunk.toString("utf8");
      if (received.includes("\n")) done();
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
