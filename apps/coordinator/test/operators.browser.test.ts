import type { MonitorView, PathTestView } from "@lg/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, createSecurityStore } from "../src/security";
import { launchChromium, type RealBrowser, shot } from "./browser";
import { waitFor } from "./harness";
import { type LabStack, startLabStack } from "./lab-stack";

/** efra, fra's first router: what LG_PRIVATE_HOPS=1 hides from the public (fra's side of link 1). */
const EFRA = "198.18.1.2";

/**
 * The operators' day in real Chromium on the reference lab (agents in fra, sin and vm; the
 * coordinator with LG_PRIVATE_HOPS=1): a visitor sees fra's own router hidden and the operator pages
 * refused; the operator signs in with a key, sees the router, opens the mesh and a monitor's history,
 * signs out and is refused again.
 */
describe("operators in Chromium: sign-in, mesh, history, hop privacy, sign-out", () => {
  let env: LabStack;
  let browser: RealBrowser;
  let url: string;
  let key: string;
  let monitor: MonitorView;

  beforeAll(async () => {
    env = await startLabStack({ env: { LG_PRIVATE_HOPS: "1" } });
    url = env.url;
    key = (await createApiKey(createSecurityStore(env.stack.coordinator.db.db), ["monitors"], "noc")).key;
    const res = await fetch(`${url}/api/v1/monitors`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({
        kind: "path-test",
        name: "fra <-> sin",
        every: 5,
        pathTest: { a: "fra", b: "sin", ipVersion: 4, count: 10, interval: 0.2 },
        rules: { pathChange: { runs: 2 } },
      }),
    });
    expect(res.status).toBe(201);
    monitor = (await res.json()) as MonitorView;
    browser = await launchChromium();
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await env?.stop();
  }, 60_000);

  const runs = async () =>
    (
      (await (
        await fetch(`${url}/api/v1/monitors/${monitor.id}`, { headers: { authorization: `Bearer ${key}` } })
      ).json()) as MonitorView
    ).runs;

  it("a visitor's measurement from the form shows fra's first router as 'hidden by the operator', live and when done", async () => {
    const page = await browser.context.newPage();
    await page.goto(`${url}/`);
    await page.fill("#target", env.lab.scenarios.clean.target);
    await page.click("button[type=submit]");
    await page.waitForURL(/\/m\/[A-Za-z0-9_-]+$/);
    await page.waitForSelector('[data-role="m-status"].status-done', { timeout: 90_000 });
    const fra = page.locator("section.pop", { has: page.locator(".pop-name", { hasText: "fra" }) });
    const first = fra.locator('tr.hop[data-ttl="1"] .c-host');
    await expect.poll(() => first.textContent()).toContain("hidden by the operator");
    expect(await page.content()).not.toContain(EFRA);
    // Its counts stay: hop 1 sent and answered its probes.
    expect(await fra.locator('tr.hop[data-ttl="1"] .c-snt').textContent()).toMatch(/^[1-9]\d*$/);
    await page.screenshot({ path: shot("op-01-public-hidden"), fullPage: true });
    await page.close();
  });

  it("signs in, opens the mesh and a monitor's history, signs out and is refused", async () => {
    const page = await browser.context.newPage();
    // Refused first, with the way in.
    const refused = await page.goto(`${url}/mesh`);
    expect(refused?.status()).toBe(401);
    await page.click("main a[href^='/login?next=']");
    await page.waitForURL(/\/login\?next=%2Fmesh$/);
    await page.fill("#key", key);
    await page.click("form.login-form button[type=submit]");
    await page.waitForURL(`${url}/mesh`);

    const cookie = (await browser.context.cookies(url)).find((c) => c.name === "lg_session");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", secure: false, path: "/" });
    expect(await page.locator("nav a", { hasText: "Monitors" }).count()).toBe(1);
    expect(await page.locator("nav button", { hasText: "Sign out" }).count()).toBe(1);

    // The mesh: once the monitor has run, the fra -> sin cell links to its last path test.
    await waitFor("a run of the mesh monitor", async () => (await runs()) >= 2, 150_000);
    await page.reload();
    const cell = page.locator('a[aria-label="path test fra to sin"]');
    await cell.waitFor();
    await page.screenshot({ path: shot("op-02-mesh"), fullPage: true });

    // Signed in, the path test shows fra's first router.
    await cell.click();
    await page.waitForURL(/\/p\/[A-Za-z0-9_-]+$/);
    const test = (await (
      await fetch(`${url}/api/v1/path-tests/${page.url().split("/").at(-1)}`, {
        headers: { authorization: `Bearer ${key}` },
      })
    ).json()) as PathTestView;
    expect(test.forward.hops[0]?.host).toBe(EFRA);
    expect(await page.content()).toContain(EFRA);
    expect(await page.content()).not.toContain("hidden by the operator");

    // A monitor's history: from /monitors to its page, the far end first, then hop 1 on demand.
    await page.goto(`${url}/monitors`);
    await page.click(`#monitor-${monitor.id} a:text("history")`);
    await page.waitForURL(new RegExp(`/monitors/${monitor.id}/history$`));
    for (const subject of ["forward", "reverse"]) {
      const section = page.locator(`section.history[data-subject="${subject}"]`);
      expect(await section.locator("svg.history-chart g.interval").count()).toBeGreaterThan(0);
      expect(await section.locator("svg.history-chart .median").count()).toBeGreaterThan(0);
    }
    expect(await page.locator('.history-nav a[aria-current="page"]').allTextContents()).toEqual([
      "1 d",
      "far end",
    ]);
    await page.click('.history-nav a:text-is("1 h")');
    await page.click('.history-nav a:text-is("1")');
    await page.waitForURL(/range=1h&hop=1$/);
    expect(await page.locator("h1").textContent()).toBe("History of fra <-> sin");
    expect(await page.locator(".lede").textContent()).toContain("at hop 1 over the last hour");
    expect(await page.locator("svg.history-chart g.interval").count()).toBeGreaterThan(0);
    await page.screenshot({ path: shot("op-03-history"), fullPage: true });

    // Sign out: the session ends and the operator pages refuse again.
    await page.click("nav button:text('Sign out')");
    await page.waitForURL(/\/login\?signed-out$/);
    expect(await page.locator(".notice").textContent()).toBe("Signed out.");
    expect((await browser.context.cookies(url)).find((c) => c.name === "lg_session")).toBeUndefined();
    for (const path of ["/mesh", "/monitors", `/monitors/${monitor.id}/history`]) {
      const res = await page.goto(`${url}${path}`);
      expect(res?.status(), path).toBe(401);
    }
    await page.screenshot({ path: shot("op-04-signed-out"), fullPage: true });
    await page.close();
  }, 300_000);
});
