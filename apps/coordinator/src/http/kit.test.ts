import { createRoute, z } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { ApiError, DependencyError, notFound } from "../errors";
import { createRouter, database, jsonBody, jsonResponse } from "./kit";

describe("database(): one wrapper for database calls", () => {
  it("turns a failure into 503 database_unavailable that says what did not answer, keeping the cause", async () => {
    const cause = new Error("connection refused");
    const err = await database("list agents", () => Promise.reject(cause)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DependencyError);
    expect(err).toMatchObject({
      status: 503,
      code: "database_unavailable",
      message: "the database did not answer (list agents)",
      cause,
    });
  });

  it("lets an ApiError thrown inside through unchanged (a 404 stays a 404)", async () => {
    const missing = notFound("monitor", "m1");
    await expect(database("read monitor", () => Promise.reject(missing))).rejects.toBe(missing);
  });

  it("answers what the call answers", async () => {
    await expect(database("read", async () => 7)).resolves.toBe(7);
  });
});

describe("createRouter(): a failed validation is today's error body", () => {
  const app = createRouter();
  app.openapi(
    createRoute({
      method: "post",
      path: "/x/{id}",
      request: {
        params: z.object({ id: z.string().min(3) }),
        query: z.object({ limit: z.coerce.number().int().optional() }).strict(),
        body: jsonBody(z.object({ target: z.string(), count: z.number().optional() }).strict()),
      },
      responses: { 200: jsonResponse(z.object({ ok: z.boolean() }), "ok") },
    }),
    (c) => c.json({ ok: true }, 200),
  );
  app.onError((err, c) =>
    err instanceof ApiError
      ? c.json({ code: err.code, field: err.field, message: err.message }, err.status)
      : c.json({}, 500),
  );
  const post = (path: string, body: unknown) =>
    app.request(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  it("names a missing field, a wrong one and an unknown one, in the body, the query and the path", async () => {
    const cases: [string, unknown, unknown][] = [
      ["/x/abc", {}, { code: "missing_field", field: "target", message: "'target' is required" }],
      ["/x/abc", { target: "a", count: "3" }, { code: "invalid_field", field: "count" }],
      ["/x/abc", { target: "a", extra: 1 }, { code: "unknown_field", field: "extra" }],
      ["/x/abc?limit=x", { target: "a" }, { code: "invalid_field", field: "limit" }],
      ["/x/abc?nope=1", { target: "a" }, { code: "unknown_field", field: "nope" }],
      ["/x/ab", { target: "a" }, { code: "invalid_field", field: "id" }],
    ];
    for (const [path, body, expected] of cases) {
      const res = await post(path, body);
      expect({ status: res.status, body: await res.json() }, path).toMatchObject({
        status: 400,
        body: expected,
      });
    }
    expect((await post("/x/abc", { target: "a" })).status).toBe(200);
  });
});
