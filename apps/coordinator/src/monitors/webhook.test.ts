import { type AlertWebhook, parseAllowList } from "@lg/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWebhookReceiver } from "../../test/webhook-receiver";
import { checkWebhookUrl, deliverWebhook, type HostLookup, WebhookRefused } from "./webhook";

const body: AlertWebhook = {
  event: "alert.fired",
  alert: {
    id: "a1",
    monitorId: "m1",
    rule: "loss",
    subject: "fra",
    status: "firing",
    firedAt: new Date().toISOString(),
    resolvedAt: null,
    evidence: {},
    resolveEvidence: null,
    link: null,
    resolveLink: null,
    delivery: null,
  },
  monitor: { id: "m1", name: "m", kind: "trace" },
  summary: "loss",
};

/** A name whose answers the test scripts, one list per lookup (the last repeats). */
function scripted(...answers: string[][]): HostLookup & { calls: number } {
  const fn = async () => {
    const list = answers[Math.min(fn.calls, answers.length - 1)] ?? [];
    fn.calls++;
    return list.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  fn.calls = 0;
  return fn;
}

describe("webhook URLs: no internal addresses unless allow-listed", () => {
  it.each([
    "http://127.0.0.1:22/",
    "http://10.0.0.5:6379/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:8080/",
    "http://[fd00::1]/",
    "http://[::ffff:10.0.0.1]/",
    "http://0x7f.1/",
    "http://localhost:5432/",
  ])("%s is refused", async (url) => {
    await expect(checkWebhookUrl(url, [])).rejects.toMatchObject({
      name: "WebhookRefused",
      code: "webhook_refused",
      message: expect.stringContaining("LG_WEBHOOK_ALLOW"),
    });
  });

  it("a name with any internal address among its answers is refused, naming the address", async () => {
    const lookup = scripted(["192.0.0.170", "10.1.2.3"]);
    await expect(checkWebhookUrl("https://hooks.example.net/x", [], lookup)).rejects.toThrow(
      /hooks\.example\.net resolves to 192\.0\.0\.170/,
    );
  });

  it("a public address passes, and an allow-listed internal one does", async () => {
    expect(await checkWebhookUrl("https://hooks.example.net/x", [], scripted(["8.8.8.8"]))).toEqual([
      { address: "8.8.8.8", family: 4 },
    ]);
    const allow = parseAllowList("10.20.0.0/16");
    await expect(checkWebhookUrl("http://10.20.1.1:8080/", allow)).resolves.toHaveLength(1);
    await expect(checkWebhookUrl("http://10.21.1.1:8080/", allow)).rejects.toBeInstanceOf(WebhookRefused);
  });

  it("a host that does not resolve is resolve_failed", async () => {
    const failing: HostLookup = async () => {
      throw new Error("ENOTFOUND");
    };
    await expect(checkWebhookUrl("https://nowhere.invalid/", [], failing)).rejects.toMatchObject({
      code: "resolve_failed",
    });
  });
});

describe("webhook delivery (a real receiver on 127.0.0.1)", () => {
  let hook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  beforeAll(async () => {
    hook = await startWebhookReceiver();
  });
  afterAll(async () => {
    await hook?.close();
  });

  it("an internal receiver is not called without LG_WEBHOOK_ALLOW: the delivery says refused", async () => {
    const before = hook.received.length;
    const delivery = await deliverWebhook(hook.url, body, { allow: [] });
    expect(delivery).toMatch(/^refused: 127\.0\.0\.1 is not a public address/);
    expect(hook.received.length).toBe(before);
  });

  it("a name that resolved to a public address when the monitor was made, and now to an internal one, is refused at delivery", async () => {
    const port = new URL(hook.url).port;
    const url = `http://rebind.example.net:${port}/hook`;
    const lookup = scripted(["93.184.216.34"], ["127.0.0.1"]);
    await checkWebhookUrl(url, [], lookup);
    const before = hook.received.length;
    expect(await deliverWebhook(url, body, { allow: [], lookup })).toMatch(
      /^refused: rebind\.example\.net resolves to 127\.0\.0\.1/,
    );
    expect(hook.received.length).toBe(before);
  });

  it("allow-listed, it is delivered to exactly the checked address (no second lookup)", async () => {
    const port = new URL(hook.url).port;
    // The system resolver does not know this name: only the checked answer can reach the receiver.
    const lookup = scripted(["127.0.0.1"]);
    const delivery = await deliverWebhook(`http://hook.invalid:${port}/hook`, body, {
      allow: parseAllowList("127.0.0.1/32"),
      lookup,
    });
    expect(delivery).toBe("ok 204");
    expect(lookup.calls).toBe(1);
    expect(hook.received.at(-1)).toEqual(body);
  });
});
