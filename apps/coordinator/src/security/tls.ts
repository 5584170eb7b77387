import { readFileSync } from "node:fs";

/** TLS settings of a coordinator: HTTPS for its listeners, TLS towards NATS. */
export interface TlsSettings {
  /** PEM certificate chain and key for HTTPS (`LG_TLS_CERT`, `LG_TLS_KEY`); absent: plain HTTP. */
  http?: { cert: Buffer; key: Buffer; certFile: string; keyFile: string };
  /**
   * TLS towards NATS: the CA that signed the server's certificate (`LG_TLS_CA`) and an optional
   * client certificate (`LG_TLS_NATS_CERT`, `LG_TLS_NATS_KEY`) for servers that verify clients.
   */
  nats?: { caFile?: string; certFile?: string; keyFile?: string };
}

function readPem(name: string, file: string): Buffer {
  let text: Buffer;
  try {
    text = readFileSync(file);
  } catch (err) {
    throw new Error(
      `${name}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  if (!text.includes("-----BEGIN ")) throw new Error(`${name}: ${file} is not a PEM file`);
  return text;
}

function pair(env: Record<string, string | undefined>, certVar: string, keyVar: string) {
  const cert = env[certVar];
  const key = env[keyVar];
  if (Boolean(cert) !== Boolean(key)) {
    throw new Error(`${cert ? keyVar : certVar} is not set: ${certVar} and ${keyVar} go together`);
  }
  return cert && key ? { cert, key } : undefined;
}

/**
 * Reads `LG_TLS_*` (files are read now, so a wrong path fails at start with the variable's name).
 * Throws an Error with a one-line message.
 */
export function parseTlsSettings(env: Record<string, string | undefined>): TlsSettings {
  const settings: TlsSettings = {};
  const http = pair(env, "LG_TLS_CERT", "LG_TLS_KEY");
  if (http) {
    settings.http = {
      cert: readPem("LG_TLS_CERT", http.cert),
      key: readPem("LG_TLS_KEY", http.key),
      certFile: http.cert,
      keyFile: http.key,
    };
  }
  const client = pair(env, "LG_TLS_NATS_CERT", "LG_TLS_NATS_KEY");
  const ca = env.LG_TLS_CA;
  if (ca) readPem("LG_TLS_CA", ca);
  if (client) {
    readPem("LG_TLS_NATS_CERT", client.cert);
    readPem("LG_TLS_NATS_KEY", client.key);
  }
  if (ca || client) {
    settings.nats = {
      ...(ca ? { caFile: ca } : {}),
      ...(client ? { certFile: client.cert, keyFile: client.key } : {}),
    };
  }
  return settings;
}
