import { describe, expect, it } from "vitest";
import { ApiError, notFound } from "../errors";
import { documentedStatuses } from "./openapi";
import type { UndocumentedStatus } from "./status-audit";
import { testApp } from "./test-app";

type Json = { [key: string]: unknown };
const at = (node: unknown, ...path: string[]): Json => {
  let cur = node as Json;
  for (const key of path) cur = cur?.[key] as Json;
  return cur;
};

describe("the OpenAPI document: follow-ups, --until-sure and the loss interval", async () => {
  const document = await (await testApp().app.request("/openapi.json")).json();
  const schemas = at(document, "components", "schemas");

  it("documents servicePort and adaptive on the measurement request, with their bounds", () => {
    const request = at(schemas, "MeasurementRequest", "properties");
    expect(at(request, "servicePort")).toMatchObject({ type: "integer", minimum: 1, maximum: 65535 });
    expect(at(request, "servicePort").description).toContain("else to 443 and 80");
    expect(at(request, "adaptive").type).toBe("boolean");
    expect(at(request, "adaptive").description).toContain("at most 4 x count");
  });

  it("documents a trace's followUps, adaptive and each hop's lossCi", () => {
    const trace = at(schemas, "Trace", "properties");
    expect(at(trace, "followUps").description).toContain("TCP SYN and UDP probes");
    expect(at(trace, "adaptive", "properties")).toHaveProperty("extraProbes");
    expect(at(trace, "adaptive").description).toContain("--until-sure");
    expect(at(trace, "hops", "items", "properties", "lossCi").description).toContain("Wilson");
  });

  it("documents recordRoute on the request, and a trace's nat and recordRoute", () => {
    expect(at(schemas, "MeasurementRequest", "properties", "recordRoute").description).toContain(
      "Record Route option",
    );
    const trace = at(schemas, "Trace", "properties");
    expect(at(trace, "nat").description).toContain("hop afterTtl");
    expect(at(trace, "recordRoute", "properties")).toHaveProperty("back");
    expect(at(trace, "recordRoute").description).toContain("stripped");
  });

  it("says on POST /measurements what the agent confirms and what the budget reserves", () => {
    const post = at(document, "paths", "/api/v1/measurements", "post");
    expect(post.description).toContain("`destination-filters-icmp` with the proof");
    expect(post.description).toContain("reserved for the worst case");
  });
});

/**
 * Routes the app serves that are not API operations, so not in the document, each with why.
 * Anything else the app serves must be documented.
 */
const NOT_API: [RegExp, string][] = [
  [
    /^\/$|^\/(m|compare|p|r)\/|^\/p$|^\/(monitors|mesh)$|^\/monitors\/[^/]+\/history$|^\/(login|logout)$/,
    "a web page (HTML for people), not an API operation",
  ],
  [/^\/assets\//, "the web UI's stylesheet and script"],
  [/^\/docs(\/|$)/, "the API reference page over this document, and its script"],
];

describe("the OpenAPI document covers what the app serves", async () => {
  const { app } = testApp();
  const document = (await (await app.request("/openapi.json")).json()) as { paths: Record<string, unknown> };
  const documented = documentedStatuses(document);

  it("documents every route the app serves, web pages and assets aside", () => {
    const served = app.routes
      .filter((r) => r.method !== "ALL")
      .map((r) => `${r.method} ${r.path.replace(/:([^/]+)/g, "{$1}")}`)
      .filter((op) => !NOT_API.some(([pattern]) => pattern.test(op.split(" ")[1] ?? "")));
    expect(served.length).toBeGreaterThan(20);
    expect(served.filter((op) => !documented.has(op))).toEqual([]);
  });

  it("leaves out only routes that are not API operations", () => {
    const pages = app.routes.filter((r) => NOT_API.some(([pattern]) => pattern.test(r.path)));
    expect(pages.every((r) => !r.path.startsWith("/api/"))).toBe(true);
  });

  it("lists the statuses every request may get on every operation", () => {
    for (const [op, statuses] of documented) {
      expect([...statuses], op).toEqual(expect.arrayContaining(["401", "413", "500", "503"]));
    }
  });
});

describe("the status audit (AppDeps.onUndocumentedStatus)", () => {
  const fail = (err: Error) => ({
    get: async () => {
      throw err;
    },
  });

  it("reports a status the matched route does not document, naming the operation", async () => {
    const seen: UndocumentedStatus[] = [];
    const { app } = testApp({
      measurements: fail(new ApiError(418, "teapot", "not documented")) as never,
      onUndocumentedStatus: (v) => seen.push(v),
    });
    const res = await app.request("/api/v1/measurements/m1");
    expect(res.status).toBe(418);
    expect(seen).toEqual([
      { operation: "GET /api/v1/measurements/{id}", path: "/api/v1/measurements/m1", status: 418 },
    ]);
  });

  it("says nothing of a documented status, of an unknown path, or of a web page", async () => {
    const seen: UndocumentedStatus[] = [];
    const { app } = testApp({
      measurements: fail(notFound("measurement", "m1")) as never,
      onUndocumentedStatus: (v) => seen.push(v),
    });
    expect((await app.request("/api/v1/measurements/m1")).status).toBe(404);
    expect((await app.request("/api/v1/nothing-here")).status).toBe(404);
    expect((await app.request("/assets/style.css")).status).toBe(200);
    expect(seen).toEqual([]);
  });
});
