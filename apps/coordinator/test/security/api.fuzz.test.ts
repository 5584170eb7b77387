import { parseTarget } from "@lg/protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, createSecurityStore } from "../../src/security";
import { type Stack, startStack } from "../harness";

/**
 * Random bodies, ids and query strings against every route that takes input (PGlite, real
 * NATS, no agents, so nothing is probed): never a 5xx, and every 4xx under /api is the JSON
 * error shape. Run counts are exported so the totals can be quoted.
 */
export const RUNS = { body: 300, form: 150, id: 120, query: 150 };

/** Names that would reach DNS are made invalid, so the test never waits on a resolver. */
function noDns(value: unknown, key = ""): unknown {
  if (typeof value === "string" && (key === "target" || key === "host")) {
    try {
      if (parseTarget(value).kind === "hostname") return `${value} x`;
    } catch {
      return value;
    }
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => noDns(v));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, noDns(v, k)]));
  }
  return value;
}

const target = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.constantFrom("127.0.0.1", "10.0.0.1", "-c 5 x", "http://x/", "::ffff:127.0.0.1", "fe80::1%lo", ""),
  fc.string(),
);
const option = fc.record(
  {
    target,
    from: fc.oneof(fc.array(fc.string({ maxLength: 10 }), { maxLength: 4 }), fc.anything()),
    protocol: fc.oneof(fc.constantFrom("icmp", "udp", "tcp"), fc.anything()),
    port: fc.oneof(fc.integer(), fc.double(), fc.string()),
    count: fc.oneof(fc.integer({ min: -5, max: 20_000 }), fc.double(), fc.string()),
    interval: fc.oneof(fc.double(), fc.integer()),
    size: fc.integer(),
    ipVersion: fc.oneof(fc.constantFrom(4, 6), fc.integer()),
    maxTtl: fc.integer(),
    pinFlow: fc.anything(),
    a: fc.string({ maxLength: 10 }),
    b: fc.oneof(fc.string({ maxLength: 10 }), fc.record({ host: target })),
    server: fc.oneof(fc.string({ maxLength: 10 }), fc.record({ host: target })),
    via: fc.anything(),
    cidr: fc.oneof(
      fc.string(),
      fc.ipV4().map((a) => `${a}/24`),
    ),
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  option.map((o) => JSON.stringify(noDns(o))),
  fc.anything().map((v) => JSON.stringify(noDns(v)) ?? "null"),
  fc.string(),
  fc.constantFrom("{", "[]", "null", '{"target":', "\u0000", '{"__proto__":{"x":1},"target":"127.0.0.1"}'),
);
const idLike = fc.oneof(
  fc.string({ minLength: 1 }),
  fc.stringMatching(/^[A-Za-z0-9_-]{1,30}$/),
  fc.constantFrom("..", "%2e%2e", "%00", "a/b", "' or 1=1 --", "x".repeat(5000)),
);
const queryLike = fc.dictionary(
  fc.oneof(fc.constantFrom("limit", "target", "client", "before", "since"), fc.string({ maxLength: 8 })),
  fc.oneof(
    fc.string(),
    fc.integer().map(String),
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  ),
);

describe("the HTTP API under random input", () => {
  let stack: Stack;
  let adminKey: string;
  const seen = { requests: 0, statuses: new Map<number, number>() };

  beforeAll(async () => {
    stack = await startStack("pglite");
    const store = createSecurityStore(stack.coordinator.db.db);
    adminKey = (await createApiKey(store, ["admin"], "fuzz")).key;
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  async function check(path: string, init: RequestInit = {}): Promise<void> {
    const res = await stack.coordinator.app.request(path, init);
    seen.requests++;
    seen.statuses.set(res.status, (seen.statuses.get(res.status) ?? 0) + 1);
    const text = await res.text();
    expect(res.status, `${init.method ?? "GET"} ${path} -> ${text.slice(0, 200)}`).toBeLessThan(500);
    if (res.status >= 400 && new URL(path, "http://x").pathname.startsWith("/api/")) {
      expect(res.headers.get("content-type")).toMatch(/application\/json/);
      const parsed = JSON.parse(text) as { error: { code: unknown; message: unknown } };
      expect(Object.keys(parsed)).toEqual(["error"]);
      expect(typeof parsed.error.code).toBe("string");
      expect(typeof parsed.error.message).toBe("string");
    }
  }

  const jsonRoutes = [
    "/api/v1/measurements",
    "/api/v1/path-tests",
    "/api/v1/reverse-sessions",
    "/api/v1/reverse-sessions/nope/join",
    "/api/v1/admin/opt-out",
  ];
  it.each(jsonRoutes)(
    "POST %s with random bodies and content types: no 5xx, JSON errors",
    async (route) => {
      await fc.assert(
        fc.asyncProperty(body, fc.constantFrom("application/json", "text/plain", ""), async (b, type) => {
          await check(route, {
            method: "POST",
            headers: { ...(type ? { "content-type": type } : {}), authorization: `Bearer ${adminKey}` },
            body: b,
          });
        }),
        { numRuns: RUNS.body },
      );
    },
    120_000,
  );

  it.each(["/", "/p"])(
    "the web form POST %s with random fields: no 5xx",
    async (route) => {
      const field = fc.tuple(
        fc.constantFrom("target", "from", "protocol", "count", "interval", "a", "b", "x"),
        fc.string(),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(field, { maxLength: 6 }), async (fields) => {
          const form = new URLSearchParams(
            fields.map(([k, v]): [string, string] => [k, String(noDns(v, k))]),
          );
          // With a key: app.request has no client address, which is limited (as "unknown").
          await check(route, {
            method: "POST",
            headers: {
              "content-type": "application/x-www-form-urlencoded",
              authorization: `Bearer ${adminKey}`,
              // As the browser sends it from the form's own page (app.request's origin).
              origin: "http://localhost",
            },
            body: form.toString(),
          });
        }),
        { numRuns: RUNS.form },
      );
    },
    120_000,
  );

  const idRoutes = [
    "/api/v1/measurements/{id}",
    "/api/v1/measurements/{id}/events",
    "/api/v1/path-tests/{id}",
    "/api/v1/path-tests/{id}/events",
    "/api/v1/reverse-sessions/{id}",
    "/api/v1/reverse-sessions/{id}/join.sh",
    "/m/{id}",
    "/m/{id}.json",
    "/m/{id}.csv",
    "/m/{id}/trace/{id}",
    "/compare/{id}",
    "/p/{id}",
    "/r/{id}",
  ];
  it.each(idRoutes)(
    "GET %s with random ids: no 5xx, JSON errors under /api",
    async (route) => {
      await fc.assert(
        fc.asyncProperty(idLike, async (id) => {
          await check(route.replaceAll("{id}", encodeURIComponent(id)));
        }),
        { numRuns: RUNS.id },
      );
    },
    120_000,
  );

  it.each(["/api/v1/admin/audit", "/api/v1/agents", "/api/v1/admin/opt-out", "/"])(
    "GET %s with random query strings: no 5xx",
    async (route) => {
      await fc.assert(
        fc.asyncProperty(queryLike, async (q) => {
          await check(`${route}?${new URLSearchParams(q)}`, {
            headers: { authorization: `Bearer ${adminKey}` },
          });
        }),
        { numRuns: RUNS.query },
      );
    },
    120_000,
  );

  it("the runs reached the routes' own errors, not only 404s", () => {
    const ok = [...seen.statuses.entries()].filter(([s]) => s !== 404).reduce((n, [, c]) => n + c, 0);
    expect(ok).toBeGreaterThan(seen.requests / 4);
    console.log(
      `api fuzz: ${seen.requests} requests, statuses ${JSON.stringify(Object.fromEntries(seen.statuses))}`,
    );
  });
});
