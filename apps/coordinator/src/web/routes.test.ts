import type { AgentRow } from "@lg/db";
import type {
  Hop,
  MeasurementView,
  PathTestView,
  ReverseSessionCreated,
  ReverseSessionView,
  TraceView,
} from "@lg/protocol";
import { TraceOptions } from "@lg/protocol";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { ApiError, notFound } from "../errors";
import { runAs } from "../security/context";
import { type WebDeps, webRoutes } from "./routes";

/**
 * The pages over fake services (no database, no NATS): what each route answers, and that a form
 * goes through the API's schema and service, its error beside the field it names.
 */

const options = TraceOptions.parse({});
const hop: Hop = {
  ttl: 1,
  host: "198.18.1.1",
  lossPct: 0,
  sent: 10,
  recv: 10,
  drop: 0,
  last: 1.5,
  avg: 1.4,
  best: 1.1,
  worst: 2,
  stdev: 0.2,
  jitter: 0,
  jitterAvg: 0,
  jitterMax: 0,
  responders: [{ address: "198.18.1.1", count: 10 }],
};
const trace = (id: string, agentId: string): TraceView => ({
  id,
  measurementId: "m1",
  followUps: [],
  agentId,
  target: "198.18.9.2",
  address: "198.18.9.2",
  status: "running",
  failure: null,
  hops: [hop],
  diagnosis: null,
  stoppedBy: null,
  startedAt: "2026-11-23T07:00:00.000Z",
  finishedAt: null,
});
const measurement: MeasurementView = {
  id: "m1",
  target: "198.18.9.2",
  status: "running",
  options,
  created: "2026-11-23T07:00:00.000Z",
  traces: [trace("t1", "fra"), trace("t2", "sin")],
};
const pathTest: PathTestView = {
  id: "p1",
  status: "running",
  a: "fra",
  b: "sin",
  aAddress: "198.18.1.2",
  bAddress: "198.18.9.2",
  options,
  created: "2026-11-23T07:00:00.000Z",
  forward: trace("tf", "fra"),
  reverse: null,
  comparison: null,
  note: null,
};
const session: ReverseSessionView = {
  id: "rs1",
  status: "waiting",
  created: "2026-11-23T07:00:00.000Z",
  expiresAt: "2026-11-23T07:15:00.000Z",
  server: "fra",
  via: null,
  customer: { publicAddress: null, agentId: null },
  legs: [],
};
const agentRow = (id: string, region: string): AgentRow =>
  ({
    id,
    region,
    role: "pop",
    version: "0",
    online: true,
    lastSeen: new Date("2026-11-23T07:00:00.000Z"),
    addresses: [],
    capabilities: { protocols: ["icmp"], ipVersions: [4], maxTraces: 4, mtrPacket: true },
    running: 0,
    counters: null,
  }) as unknown as AgentRow;

/** What the fake services were asked to do. */
interface Calls {
  submitted: unknown[];
  pathTests: unknown[];
  sessions: unknown[];
}

/** Fake services: "busy.example" is refused by the service (409 on `target`), "down" is a 503. */
function deps(opts: { monitorsDown?: boolean } = {}): { deps: WebDeps; calls: Calls } {
  const calls: Calls = { submitted: [], pathTests: [], sessions: [] };
  const get =
    <T>(what: string, view: T) =>
    async (id: string): Promise<T> => {
      if (id === "down") throw new ApiError(503, "database_unavailable", "the database did not answer");
      if (id !== (view as { id: string }).id) throw notFound(what, id);
      return view;
    };
  const store = {
    list: async () => {
      if (opts.monitorsDown) throw new Error("connection refused");
      return [];
    },
    firingCounts: async () => new Map(),
    listAlerts: async () => [],
    samples: async () => [],
  };
  const web = {
    logger: pino({ level: "silent" }),
    repo: { listAgents: async () => [agentRow("fra", "eu"), agentRow("sin", "ap")] },
    measurements: {
      get: get("measurement", measurement),
      submit: async (body: { target: string }) => {
        calls.submitted.push(body);
        if (body.target === "busy.example")
          throw new ApiError(409, "target_busy", "this target is being traced already", "target");
        return { id: "m1" };
      },
    },
    pathTests: {
      get: get("path test", pathTest),
      create: async (body: unknown) => {
        calls.pathTests.push(body);
        return { id: "p1" };
      },
    },
    reverseSessions: {
      get: get("reverse session", session),
      create: async (body: unknown, origin: string): Promise<ReverseSessionCreated> => {
        calls.sessions.push(body);
        return {
          id: "rs1",
          expiresAt: session.expiresAt,
          command: `lg join '${origin}/join?token=secret'`,
          joinUrl: `${origin}/join?token=secret`,
          customerUrl: `${origin}/customer?token=secret`,
          uploadUrl: `${origin}/upload?token=secret`,
        };
      },
    },
    monitors: { store },
  };
  return { deps: web as unknown as WebDeps, calls };
}

const form = (fields: Record<string, string | string[]>) => {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) body.append(k, one);
  return { method: "POST", body, headers: { "content-type": "application/x-www-form-urlencoded" } };
};

describe("web pages", () => {
  it("the form page lists the PoPs and carries the page security headers", async () => {
    const res = await webRoutes(deps().deps).request("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).toContain('value="fra"');
    expect(html).toContain('id="path-test"');
  });

  it("a measurement form that passes the schema is submitted and redirected to its live page", async () => {
    const { deps: d, calls } = deps();
    const res = await webRoutes(d).request(
      "/",
      form({ target: " 198.18.9.2 ", from: ["fra", "sin"], protocol: "udp", port: "53", count: "5" }),
    );
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/m/m1");
    expect(calls.submitted).toEqual([
      expect.objectContaining({
        target: "198.18.9.2",
        from: ["fra", "sin"],
        protocol: "udp",
        port: 53,
        count: 5,
      }),
    ]);
  });

  it("a measurement form the schema refuses comes back with the error beside its field, as typed", async () => {
    const { deps: d, calls } = deps();
    const res = await webRoutes(d).request("/", form({ target: "198.18.9.2", count: "500" }));
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toMatch(/id="count-error"[^>]*>&#39;count&#39;: Too big/);
    expect(html).toContain('value="500"');
    expect(calls.submitted).toEqual([]);
  });

  it("a measurement the service refuses comes back with the service's status and message", async () => {
    const res = await webRoutes(deps().deps).request("/", form({ target: "busy.example" }));
    expect(res.status).toBe(409);
    expect(await res.text()).toMatch(/id="target-error"[^>]*>this target is being traced already/);
  });

  it("a path test form is submitted through the API's schema, or comes back with its error", async () => {
    const { deps: d, calls } = deps();
    const ok = await webRoutes(d).request("/p", form({ a: "fra", b: "sin", count: "7" }));
    expect(ok.status).toBe(303);
    expect(ok.headers.get("location")).toBe("/p/p1");
    expect(calls.pathTests).toEqual([
      expect.objectContaining({ a: "fra", b: "sin", protocol: "icmp", count: 7 }),
    ]);

    const bad = await webRoutes(d).request("/p", form({ a: "fra", b: "sin", count: "-5" }));
    expect(bad.status).toBe(400);
    const html = await bad.text();
    // The same message the API gives for `"count": -5`.
    expect(html).toMatch(/id="pt-count-error"[^>]*>&#39;count&#39;: Too small/);
    expect(html).toContain('value="-5"');
  });

  it("a reverse session form answers 201 with the one command, not stored by caches", async () => {
    const { deps: d, calls } = deps();
    const res = await webRoutes(d).request("http://lg.test/r/new", form({ serverAgent: "fra" }));
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.text()).toContain("lg join &#39;http://lg.test/join?token=secret&#39;");
    expect(calls.sessions).toEqual([expect.objectContaining({ server: "fra", protocol: "icmp" })]);

    const bad = await webRoutes(d).request("/r/new", form({ serverHost: "198.18.9.2", count: "x" }));
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("&#39;count&#39;: ");
  });

  it("each permalink renders, and an unknown or unreachable one is a page that says why", async () => {
    const web = webRoutes(deps().deps);
    for (const path of ["/m/m1", "/compare/m1", "/m/m1/trace/t1", "/p/p1", "/p/p1/trace/tf", "/r/rs1"])
      expect((await web.request(path)).status, path).toBe(200);
    const cases: [string, number, string][] = [
      ["/m/nope", 404, "No such measurement"],
      ["/m/nope.csv", 404, "No such measurement"],
      ["/compare/nope", 404, "No such measurement"],
      ["/m/down", 503, "The measurement cannot be shown right now"],
      ["/p/nope", 404, "No such path test"],
      ["/p/down", 503, "The path test cannot be shown right now"],
      ["/r/nope", 404, "No such reverse session"],
      ["/r/down", 503, "The session cannot be shown right now"],
    ];
    for (const [path, status, title] of cases) {
      const res = await web.request(path);
      expect(res.status, path).toBe(status);
      expect(await res.text(), path).toContain(`<h1>${title}</h1>`);
    }
    expect((await web.request("/m/m1/trace/zz")).status).toBe(404);
    expect((await web.request("/p/p1/trace/zz")).status).toBe(404);
  });

  it("the exports carry their type and file name", async () => {
    const web = webRoutes(deps().deps);
    const csv = await web.request("/m/m1.csv");
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(csv.headers.get("content-disposition")).toBe('attachment; filename="lg-m1.csv"');
    const page = await web.request("/m/m1.html");
    expect(page.headers.get("content-security-policy")).not.toContain("script-src 'self'");
    expect((await web.request("/m/m1.json")).headers.get("content-type")).toContain("application/json");
    expect(await (await web.request("/m/m1.txt")).text()).toContain("HOST: fra");
  });

  it("the operator pages refuse a visitor without a key, show with one, and say so when the database is down", async () => {
    const web = webRoutes(deps().deps);
    expect((await web.request("/monitors")).status).toBe(401);
    expect((await web.request("/mesh")).status).toBe(401);
    const operator = { address: null, clientKey: "k", keyId: "k1", scopes: ["monitors"], limited: false };
    const stranger = { ...operator, scopes: ["audit"] };
    expect((await runAs(stranger, () => web.request("/monitors"))).status).toBe(403);
    expect((await runAs(operator, () => web.request("/monitors"))).status).toBe(200);
    expect((await runAs(operator, () => web.request("/mesh"))).status).toBe(200);
    const down = webRoutes(deps({ monitorsDown: true }).deps);
    for (const path of ["/monitors", "/mesh"]) {
      const res = await runAs(operator, () => down.request(path));
      expect(res.status, path).toBe(503);
      expect(await res.text()).toContain("The database did not answer");
    }
  });
});
