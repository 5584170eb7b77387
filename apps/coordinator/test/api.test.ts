import type { ApiErrorBody } from "@lg/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./harness";
import { expectError } from "./kit/http";

/** The HTTP contract without agents: validation, error shape and codes, documents. PGlite + real NATS. */
describe("coordinator HTTP API", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack("pglite");
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const post = (body: unknown, contentType = "application/json") =>
    stack.coordinator.app.request("/api/v1/measurements", {
      method: "POST",
      headers: { "content-type": contentType },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });

  it("a body without a target is refused with missing_field naming target", async () => {
    await expectError(await post({ from: ["fra"] }), 400, "missing_field", "target");
  });

  it("a port outside 1-65535 is refused with invalid_field naming port", async () => {
    await expectError(await post({ target: "127.0.0.1", port: 70000 }), 400, "invalid_field", "port");
  });

  it("a wrong type deep in the body names its path", async () => {
    await expectError(await post({ target: "127.0.0.1", from: ["ok", 5] }), 400, "invalid_field", "from.1");
  });

  it("an unknown field is refused instead of silently ignored", async () => {
    await expectError(await post({ target: "127.0.0.1", colour: "red" }), 400, "unknown_field", "colour");
  });

  it("a private address that is not allow-listed is refused before any job is sent", async () => {
    const e = await expectError(await post({ target: "10.1.2.3" }), 400, "target_refused", "target");
    expect(e.message).toMatch(/private/);
  });

  it("a target that is neither a hostname nor an IP address is invalid_target", async () => {
    await expectError(await post({ target: "http://example.net/x" }), 400, "invalid_target", "target");
    await expectError(await post({ target: "-f 1.2.3.4" }), 400, "invalid_target", "target");
  });

  it("malformed JSON is a 400 invalid_json, not a 500", async () => {
    await expectError(await post("{target:"), 400, "invalid_json");
  });

  it("a body that is not JSON is a 415", async () => {
    await expectError(
      await post("target=1.2.3.4", "application/x-www-form-urlencoded"),
      415,
      "unsupported_media_type",
    );
  });

  it("an unknown agent is refused with unknown_agent naming from", async () => {
    await expectError(await post({ target: "127.0.0.1", from: ["nosuch"] }), 400, "unknown_agent", "from");
  });

  it("a region with no agent online is a 409", async () => {
    await expectError(
      await post({ target: "127.0.0.1", from: ["region:nowhere"] }),
      409,
      "no_agents_online",
      "from",
    );
  });

  it("no PoP online and no selection is a 409", async () => {
    await expectError(await post({ target: "127.0.0.1" }), 409, "no_agents_online", "from");
  });

  it("an unknown measurement is a 404 in the same shape, for GET and for events", async () => {
    await expectError(await stack.coordinator.app.request("/api/v1/measurements/nope"), 404, "not_found");
    await expectError(
      await stack.coordinator.app.request("/api/v1/measurements/nope/events"),
      404,
      "not_found",
    );
  });

  it("an unknown route is a 404 in the same shape", async () => {
    await expectError(await stack.coordinator.app.request("/api/v2/whatever"), 404, "not_found");
  });

  it("every answer carries a request id", async () => {
    const res = await stack.coordinator.app.request("/healthz");
    expect(res.headers.get("x-request-id")).toMatch(/.+/);
  });

  it("healthz reports NATS and the database up", async () => {
    const res = await stack.coordinator.app.request("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok", nats: "ok", database: "ok" });
  });

  it("the OpenAPI document describes the request schema and every documented GET route is served", async () => {
    const res = await stack.coordinator.app.request("/openapi.json");
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, { required?: string[]; properties?: Record<string, unknown> }> };
    };
    expect(doc.openapi).toBe("3.1.0");
    const request = doc.components.schemas.MeasurementRequest;
    expect(request?.required).toEqual(["target"]);
    expect(Object.keys(request?.properties ?? {})).toEqual(
      expect.arrayContaining([
        "target",
        "from",
        "protocol",
        "port",
        "count",
        "interval",
        "size",
        "ipVersion",
        "maxTtl",
        "pinFlow",
      ]),
    );
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!("get" in ops)) continue;
      const r = await stack.coordinator.app.request(path.replace("{id}", "nope"));
      const body = r.headers.get("content-type")?.includes("json")
        ? ((await r.json()) as Partial<ApiErrorBody>)
        : {};
      // A documented route may answer 404 for an unknown id, but never "no route".
      expect(body.error?.message ?? "").not.toMatch(/no route/);
    }
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/healthz",
        "/openapi.json",
        "/api/v1/agents",
        "/api/v1/measurements",
        "/api/v1/measurements/{id}",
        "/api/v1/measurements/{id}/events",
      ]),
    );
  });

  it("a database that stops answering turns into 503 database_unavailable, and healthz says so", async () => {
    await stack.coordinator.db.close();
    await expectError(await stack.coordinator.app.request("/api/v1/agents"), 503, "database_unavailable");
    const health = await stack.coordinator.app.request("/healthz");
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: "degraded", database: "down", nats: "ok" });
  });
});
