import type { AlertWebhook } from "@lg/protocol";

const ATTEMPTS = 3;
const TIMEOUT_MS = 5_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * POSTs an alert event as JSON, retrying a failed delivery twice (after 1 s and 3 s). Returns
 * what to record: `ok <status>` or `failed: <why>`. It never throws: a receiver that is down
 * must not stop the monitor.
 */
export async function deliverWebhook(url: string, body: AlertWebhook): Promise<string> {
  let last = "";
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (attempt > 0) await sleep(attempt === 1 ? 1_000 : 3_000);
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "lg-coordinator" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
        redirect: "manual",
      });
      await res.body?.cancel().catch(() => {});
      if (res.status >= 200 && res.status < 300) return `ok ${res.status}`;
      last = `HTTP ${res.status}`;
      // A receiver that refuses the request will refuse it again.
      if (res.status >= 400 && res.status < 500 && res.status !== 429) break;
    } catch (err) {
      last = (err as Error).message;
    }
  }
  return `failed: ${last}`;
}
