import { lookup } from "node:dns/promises";
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { type AlertWebhook, type AllowList, addressRange, isAllowListed } from "@lg/protocol";
import ipaddr from "ipaddr.js";

const ATTEMPTS = 3;
const TIMEOUT_MS = 5_000;
/** A webhook host that does not resolve in this long is refused (the lookup itself is not cancellable). */
const RESOLVE_TIMEOUT_MS = 3_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface HostAddress {
  address: string;
  family: number;
}

/** Every address of a host name (the system's resolver, `/etc/hosts` included). */
export type HostLookup = (host: string) => Promise<HostAddress[]>;

const systemLookup: HostLookup = (host) => lookup(host, { all: true, verbatim: true });

/** A webhook URL that may not be called: its host is internal or special, or does not resolve. */
export class WebhookRefused extends Error {
  override name = "WebhookRefused";
  constructor(
    readonly code: "webhook_refused" | "resolve_failed",
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

async function resolveHost(host: string, resolve: HostLookup): Promise<HostAddress[]> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${RESOLVE_TIMEOUT_MS / 1000} s`)),
      RESOLVE_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([resolve(host), late]);
  } catch (err) {
    throw new WebhookRefused("resolve_failed", `the webhook host ${host} could not be resolved`, {
      cause: err,
    });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves a webhook URL's host and returns its addresses, or throws WebhookRefused when any of
 * them is not an ordinary public address (private, loopback, link-local, metadata services,
 * reserved…) and not in `allow` (`LG_WEBHOOK_ALLOW`). Otherwise a key holder could make the
 * coordinator knock on internal ports and read the outcome in the alert's `delivery`.
 */
export async function checkWebhookUrl(
  url: string,
  allow: AllowList,
  resolve: HostLookup = systemLookup,
): Promise<HostAddress[]> {
  const host = new URL(url).hostname.replace(/^\[(.*)\]$/, "$1");
  const answers = ipaddr.isValid(host)
    ? [{ address: host, family: host.includes(":") ? 6 : 4 }]
    : await resolveHost(host, resolve);
  if (answers.length === 0)
    throw new WebhookRefused("resolve_failed", `the webhook host ${host} has no address`);
  for (const { address } of answers) {
    const range = addressRange(address);
    if (range === "unicast" || isAllowListed(address, allow)) continue;
    const what = address === host ? host : `${host} resolves to ${address}, which`;
    throw new WebhookRefused(
      "webhook_refused",
      `${what} is not a public address (${range}); a webhook may reach it only if the operator lists it in LG_WEBHOOK_ALLOW`,
    );
  }
  return answers;
}

/** POSTs `payload` to `url`, connecting only to `addresses` (already checked): no second lookup. */
function post(url: URL, payload: string, addresses: HostAddress[]): Promise<number> {
  const pinned: LookupFunction = (_host, options, callback) => {
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0]?.address ?? "", addresses[0]?.family ?? 4);
  };
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      url,
      {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(payload),
          "user-agent": "lg-coordinator",
        },
        lookup: pinned,
        agent: false,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/**
 * POSTs an alert event as JSON, retrying a failed delivery twice (after 1 s and 3 s). Before each
 * attempt the host is resolved and checked again (DNS may have changed since the monitor was
 * made), and the request goes to exactly the checked addresses. Returns what to record:
 * `ok <status>`, `refused: <why>` or `failed: <why>`. It never throws: a receiver that is down
 * must not stop the monitor.
 */
export async function deliverWebhook(
  url: string,
  body: AlertWebhook,
  opts: { allow: AllowList; lookup?: HostLookup },
): Promise<string> {
  const payload = JSON.stringify(body);
  let last = "";
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (attempt > 0) await sleep(attempt === 1 ? 1_000 : 3_000);
    let addresses: HostAddress[];
    try {
      addresses = await checkWebhookUrl(url, opts.allow, opts.lookup);
    } catch (err) {
      if (err instanceof WebhookRefused && err.code === "webhook_refused") return `refused: ${err.message}`;
      last = (err as Error).message;
      continue;
    }
    try {
      const status = await post(new URL(url), payload, addresses);
      if (status >= 200 && status < 300) return `ok ${status}`;
      last = `HTTP ${status}`;
      // A receiver that refuses the request will refuse it again.
      if (status >= 400 && status < 500 && status !== 429) break;
    } catch (err) {
      last = (err as Error).message;
    }
  }
  return `failed: ${last}`;
}
