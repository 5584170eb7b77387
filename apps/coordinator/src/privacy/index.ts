import type { AgentRow } from "@lg/db";
import type { MeasurementView, PathTestView, TraceView } from "@lg/protocol";
import type { MeasurementService } from "../measurements/service";
import type { PathTestService } from "../path-tests/service";
import type { ReverseSessionService } from "../reverse-sessions/service";
import { currentPrincipal } from "../security/context";
import {
  collectHidden,
  emptyHiddenSet,
  type HiddenSet,
  normalised,
  type PrivacyContext,
  redactLiveHop,
  redactMeasurement,
  redactPathTest,
  redactReverseSession,
  redactTrace,
} from "./redact";
import type { PrivateHops } from "./settings";

export { NO_PRIVATE_HOPS, type PrivateHops, parsePrivateHops } from "./settings";

/** How long the agents' own addresses are reused before they are read again. */
const AGENTS_CACHE_MS = 5_000;

type TraceMeta = Pick<TraceView, "agentId" | "origin" | "address" | "status">;

/** An SSE event of a measurement's or a path test's stream, as the routes yield them. */
type StreamEvent = { event: string; data?: unknown };

/**
 * Hop privacy (`LG_PRIVATE_HOPS`): the PoPs' own infrastructure is hidden from the public in every
 * view the API and the pages give — measurements, path tests, reverse sessions and their live
 * streams — and never from an operator (a request with an operator key, or signed in). Work the
 * coordinator does on its own (monitor runs) has no principal and reads everything. The services are
 * wrapped where the HTTP app takes them, so each route and page gets the same answer.
 */
export interface Privacy {
  /** Does the current request see the redacted views? (A public visitor, with a policy set.) */
  applies(): boolean;
  measurements(inner: MeasurementService): MeasurementService;
  pathTests(inner: PathTestService): PathTestService;
  reverseSessions(inner: ReverseSessionService): ReverseSessionService;
  /**
   * A live stream as a request may see it: redacted when `publicView` (default: `applies()` now;
   * routes decide it in the handler, before the stream starts).
   */
  events<E extends StreamEvent>(events: AsyncIterable<E>, publicView?: boolean): AsyncIterable<E>;
}

export function createPrivacy(deps: {
  policy: PrivateHops;
  /** The agents (their announced addresses are "ours"; a join agent's are the customer's). */
  listAgents: () => Promise<AgentRow[]>;
}): Privacy {
  const enabled = deps.policy.leading > 0 || deps.policy.ranges.length > 0;
  let ours: { at: number; addresses: Promise<Set<string>> } | undefined;
  const ourAddresses = (): Promise<Set<string>> => {
    if (!ours || Date.now() - ours.at > AGENTS_CACHE_MS) {
      const addresses = deps
        .listAgents()
        .then(
          (rows) =>
            new Set(rows.filter((a) => a.role !== "join").flatMap((a) => a.addresses.map(normalised))),
        );
      ours = { at: Date.now(), addresses };
      addresses.catch(() => {
        ours = undefined;
      });
    }
    return ours.addresses;
  };
  const context = async (): Promise<PrivacyContext> => ({
    policy: deps.policy,
    ourAddresses: await ourAddresses().catch(() => new Set<string>()),
  });
  const applies = () => {
    if (!enabled) return false;
    const who = currentPrincipal();
    return !!who && !who.keyId;
  };
  /** Calls `read`, and redacts what it gives when the request is public. */
  const guarded =
    <A extends unknown[], V>(read: (...args: A) => Promise<V>, redact: (v: V, ctx: PrivacyContext) => V) =>
    async (...args: A): Promise<V> => {
      const public_ = applies();
      const view = await read(...args);
      return public_ ? redact(view, await context()) : view;
    };

  return {
    applies,
    measurements: (inner) => ({ ...inner, get: guarded(inner.get, redactMeasurement) }),
    pathTests: (inner) => ({ ...inner, get: guarded(inner.get, redactPathTest) }),
    reverseSessions: (inner) => ({ ...inner, get: guarded(inner.get, redactReverseSession) }),
    events<E extends StreamEvent>(events: AsyncIterable<E>, publicView = applies()): AsyncIterable<E> {
      if (!publicView) return events;
      return (async function* () {
        const ctx = await context();
        const known: HiddenSet = emptyHiddenSet();
        const traces = new Map<string, TraceMeta>();
        const learn = (t: TraceView) =>
          traces.set(t.id, { agentId: t.agentId, origin: t.origin, address: t.address, status: t.status });
        for await (const e of events) {
          const data = e.data as Record<string, unknown> | undefined;
          if ((e.event === "snapshot" || e.event === "done") && data && "forward" in data) {
            const view = data as unknown as PathTestView;
            for (const t of [view.forward, view.reverse]) if (t) learn(t);
            collectHidden(
              [view.forward, ...(view.reverse ? [view.reverse] : [])],
              [view.comparison],
              ctx,
              [view.aAddress, view.bAddress],
              known,
            );
            yield { ...e, data: redactPathTest(view, ctx) };
          } else if (e.event === "snapshot" && data && "traces" in data) {
            const view = data as unknown as MeasurementView;
            for (const t of view.traces) learn(t);
            collectHidden(view.traces, [], ctx, [view.target], known);
            yield { ...e, data: redactMeasurement(view, ctx) };
          } else if (e.event === "trace" && data) {
            const t = data as unknown as TraceView;
            learn(t);
            yield { ...e, data: redactTrace(t, ctx, known) };
          } else if (e.event === "hop" && data) {
            const hopEvent = data as { traceId: string; hop: TraceView["hops"][number] };
            yield {
              ...e,
              data: {
                ...hopEvent,
                hop: redactLiveHop(hopEvent.hop, traces.get(hopEvent.traceId), ctx, known),
              },
            };
          } else yield e;
        }
      })();
    },
  };
}
