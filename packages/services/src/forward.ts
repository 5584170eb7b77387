import net from "node:net";

/** A TCP listener that forwards every connection to another address (used for extra NATS listen addresses). */
export interface TcpForwarder {
  host: string;
  port: number;
  close(): Promise<void>;
}

export function startTcpForwarder(
  listen: { host: string; port: number },
  to: { host: string; port: number },
): Promise<TcpForwarder> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(to);
    sockets.add(inbound);
    sockets.add(outbound);
    const closeBoth = () => {
      inbound.destroy();
      outbound.destroy();
      sockets.delete(inbound);
      sockets.delete(outbound);
    };
    inbound.on("error", closeBoth).on("close", closeBoth);
    outbound.on("error", closeBoth).on("close", closeBoth);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: listen.host, port: listen.port, exclusive: true }, () => {
      server.off("error", reject);
      const address = server.address();
      resolve({
        host: listen.host,
        port: typeof address === "object" && address ? address.port : listen.port,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
