import { describe, expect, it } from "vitest";
import { DOCS_SCRIPT_PATH } from "./docs";
import { testApp } from "./test-app";

describe("the API reference at /docs", () => {
  const { app } = testApp();

  it("is a page whose scripts are all served by the coordinator (no CDN) and that reads /openapi.json", async () => {
    const res = await app.request("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    const sources = [...html.matchAll(/<script\b[^>]*\bsrc="([^"]*)"/g)].map((m) => m[1]);
    expect(sources).toEqual([DOCS_SCRIPT_PATH]);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).toContain('"url": "/openapi.json"');
  });

  it("serves the page script as JavaScript", async () => {
    const res = await app.request(DOCS_SCRIPT_PATH);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(1_000_000);
  });
});
