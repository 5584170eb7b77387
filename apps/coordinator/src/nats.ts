import { readFile } from "node:fs/promises";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";

export class NatsConnectError extends Error {
  override name = "NatsConnectError";
}

/**
 * Connects to NATS, with a credentials file when given. Fails at once (one clear error) when
 * the server cannot be reached at start; afterwards the client reconnects forever.
 */
export async function connectNats(opts: {
  url: string;
  credsFile?: string | undefined;
  name: string;
  /** TLS towards the server: CA file and optional client certificate (`LG_TLS_*`). */
  tls?: { caFile?: string; certFile?: string; keyFile?: string } | undefined;
}): Promise<NatsConnection> {
  let authenticator: ReturnType<typeof credsAuthenticator> | undefined;
  if (opts.credsFile) {
    let creds: Uint8Array;
    try {
      creds = await readFile(opts.credsFile);
    } catch (err) {
      throw new NatsConnectError(`cannot read NATS_CREDS file ${opts.credsFile}: ${(err as Error).message}`);
    }
    authenticator = credsAuthenticator(creds);
  }
  try {
    return await connect({
      servers: opts.url.split(",").map((s) => s.trim()),
      name: opts.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      ...(authenticator ? { authenticator } : {}),
      ...(opts.tls ? { tls: opts.tls } : {}),
    });
  } catch (err) {
    throw new NatsConnectError(`cannot connect to NATS at ${opts.url}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
