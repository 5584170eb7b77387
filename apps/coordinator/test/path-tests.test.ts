import type { PathTestAccepted, PathTestView } from "@lg/protocol";
import { PathTestView as PathTestViewSchema } from "@lg/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, readEvents, type Stack, startAgentsOnline, startStack, waitFor } from "./harness";
import { expectError } from "./kit/http";

/**
 * Path tests over the real stack (nats-server, PGlite, coordinator) with two real agents on this
 * machine; both trace loopback, so the directions are the same one-hop path.
 */
describe("path tests API", () => {
  let stack: Stack;
  let url: string;
  const agents: AgentProcess[] = [];

  beforeAll(async () => {
    stack = await startStack("pglite");
    url = stack.coordinator.url;
    await startAgentsOnline(stack, agents, [{ id: "pa" }, { id: "pb" }]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await stack?.stop();
  });

  const post = (body: unknown) =>
    fetch(`${url}/api/v1/path-tests`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  const finished = (id: string) =>
    waitFor(
      `path test ${id} done`,
      async () => {
        const v = PathTestViewSchema.parse(await (await fetch(`${url}/api/v1/path-tests/${id}`)).json());
        return v.status === "done" ? v : undefined;
      },
      60_000,
    );

  it("a body without a is refused with missing_field naming a", async () => {
    await expectError(await post({ b: "pb" }), 400, "missing_field", "a");
  });

  it("an unknown agent as b is refused with unknown_agent naming b", async () => {
    await expectError(await post({ a: "pa", b: "nosuch" }), 400, "unknown_agent", "b");
  });

  it("the same agent at both ends is refused", async () => {
    await expectError(await post({ a: "pa", b: "pa" }), 400, "invalid_field", "b");
  });

  it("a host that the target policy refuses is reported against b, and nothing is started", async () => {
    const e = await expectError(await post({ a: "pa", b: { host: "10.1.2.3" } }), 400, "target_refused", "b");
    expect(e.message).toMatch(/private/);
  });

  it("an unknown option is refused instead of ignored", async () => {
    await expectError(await post({ a: "pa", b: "pb", colour: "red" }), 400, "unknown_field", "colour");
  });

  it("a count above the API bound names count", async () => {
    await expectError(await post({ a: "pa", b: "pb", count: 100_000 }), 400, "invalid_field", "count");
  });

  it("an unknown path test is a 404 with the error shape", async () => {
    await expectError(await fetch(`${url}/api/v1/path-tests/nosuch`), 404, "not_found");
    await expectError(await fetch(`${url}/api/v1/path-tests/nosuch/events`), 404, "not_found");
  });

  it("two agents: forward and reverse run together, each diagnosed, then compared — in GET and on the stream", async () => {
    const res = await post({ a: "pa", b: "pb", count: 5, interval: 0.2 });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as PathTestAccepted;
    const events = readEvents(`${url}/api/v1/path-tests/${id}/events`, 60_000);
    const v = await finished(id);
    expect(v.forward.agentId).toBe("pa");
    expect(v.reverse?.agentId).toBe("pb");
    expect(v.forward.target).toBe("127.0.0.1");
    expect(v.reverse?.target).toBe("127.0.0.1");
    expect(v.forward.status).toBe("done");
    expect(v.reverse?.status).toBe("done");
    // Started together: the two traces began within a second of each other.
    const gap = Math.abs(Date.parse(v.forward.startedAt ?? "") - Date.parse(v.reverse?.startedAt ?? ""));
    expect(gap).toBeLessThan(1_000);
    expect(v.forward.diagnosis?.verdict).toBe("clean");
    expect(v.reverse?.diagnosis?.verdict).toBe("clean");
    expect(v.comparison?.verdict).toBe("symmetric");
    expect(v.comparison?.faultDirection).toBe("none");
    expect(v.note).toBeNull();

    const seen = await events;
    expect(seen[0]?.event).toBe("snapshot");
    expect(seen.at(-1)?.event).toBe("done");
    const done = seen.at(-1)?.data as PathTestView;
    expect(done.comparison).toEqual(v.comparison);
    const traceIds = new Set(
      seen.filter((e) => e.event === "trace").map((e) => (e.data as { id: string }).id),
    );
    expect(traceIds).toEqual(new Set([v.forward.id, v.reverse?.id]));
  }, 90_000);

  it("b as a plain host runs only the forward direction and says so", async () => {
    const res = await post({ a: "pa", b: { host: "127.0.0.1" }, count: 3, interval: 0.2 });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as PathTestAccepted;
    const v = await finished(id);
    expect(v.b).toEqual({ host: "127.0.0.1" });
    expect(v.forward.status).toBe("done");
    expect(v.reverse).toBeNull();
    expect(v.comparison).toBeNull();
    expect(v.note).toMatch(/only the forward direction/);
  }, 60_000);

  it("an offline agent is a 409 naming its end", async () => {
    const pb = agents[1] as AgentProcess;
    await pb.stop();
    await waitFor("pb offline", async () => {
      const list = (await (await fetch(`${url}/api/v1/agents`)).json()) as { id: string; online: boolean }[];
      return list.some((a) => a.id === "pb" && !a.online);
    });
    await expectError(await post({ a: "pa", b: "pb" }), 409, "agent_offline", "b");
  }, 60_000);
});
