import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { AlertWebhook } from "@lg/protocol";

/** An HTTP server that records every JSON body POSTed to it. */
export async function startWebhookReceiver(): Promise<{
  url: string;
  received: AlertWebhook[];
  close(): Promise<void>;
}> {
  const received: AlertWebhook[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      received.push(AlertWebhook.parse(JSON.parse(body)));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
