import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testApp } from "../src/http/test-app";
import { launchChromium, type RealBrowser, shot } from "./browser";

/**
 * The API reference at /docs in real Chromium, with every request to another origin refused: the
 * page, its script and the document all come from the coordinator (here the app over services
 * that are never called, on a free port; no database, no NATS).
 */
describe("the API reference (/docs) in Chromium, offline", () => {
  let server: ReturnType<typeof serve>;
  let url: string;
  let browser: RealBrowser;

  beforeAll(async () => {
    const { app } = testApp();
    await new Promise<void>((resolve) => {
      server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve());
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it("renders the API's title and its operations from the coordinator alone", async () => {
    const page = await browser.context.newPage();
    const elsewhere: string[] = [];
    await page.route("**/*", (route) => {
      if (new URL(route.request().url()).origin === url) return route.continue();
      elsewhere.push(route.request().url());
      return route.abort();
    });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));

    await page.goto(`${url}/docs`);
    await expect
      .poll(() => page.getByText("lg coordinator API").first().isVisible(), { timeout: 30_000 })
      .toBe(true);
    await expect
      .poll(() => page.getByText("Trace a target from several agents").first().isVisible(), {
        timeout: 30_000,
      })
      .toBe(true);
    await page.screenshot({ path: shot("docs-reference"), fullPage: false });
    expect(elsewhere).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
