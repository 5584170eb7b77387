import { aliasFollowUp, aliasTargets, compare, diagnose, routerIdsByTtl } from "@lg/analysis";
import { routeBackLab as lab, path, routeBackAliases } from "@lg/analysis/testing";
import {
  type Hop,
  type MeasurementView,
  type PathTestView,
  TraceOptions,
  type TraceView,
} from "@lg/protocol";

/**
 * Views for the hop-privacy tests (not part of the app): a measurement from fra and the reference
 * pair fra <-> sin as the path-test service gives it (each hop with its router id).
 */
export { lab };

export function trace(
  id: string,
  agentId: string,
  target: string,
  hops: Hop[],
  status: TraceView["status"] = "done",
): TraceView {
  return {
    id,
    measurementId: "m1",
    followUps: [],
    agentId,
    target,
    address: target,
    status,
    failure: null,
    hops,
    diagnosis: diagnose(hops, { destination: target }),
    stoppedBy: "destination",
    startedAt: "2026-11-23T07:00:00.000Z",
    finishedAt: "2026-11-23T07:00:12.000Z",
  };
}

/** fra -> tclean (198.18.9.2): efra, core1, core2, the target; efra named, with an AS and a place. */
export function measurement(): MeasurementView {
  const hops = path(["198.18.1.2", "198.18.2.2", "198.18.3.2", "198.18.9.2"]);
  hops[0] = {
    ...(hops[0] as Hop),
    name: "efra.pop.example",
    asn: 64500,
    owner: "PoP-NET",
    responders: [{ address: "198.18.1.2", name: "efra.pop.example", count: 20 }],
  };
  const t = trace("t1", "fra", "198.18.9.2", hops);
  t.diagnosis = {
    verdict: "clean",
    findings: [
      {
        code: "icmp-throttling",
        severity: "info",
        hops: [1],
        region: "A",
        evidence: "hop 1 (198.18.1.2, efra.pop.example) answered 9 of 10; 198.18.1.23 is another router.",
        advice: "",
      },
    ],
  };
  return {
    id: "m1",
    target: "198.18.9.2",
    status: "done",
    options: TraceOptions.parse({}),
    created: "2026-11-23T07:00:00.000Z",
    traces: [t],
  } as MeasurementView;
}

/** The reference pair fra <-> sin with its alias traces: efra is fra's own router, seen from both sides. */
export function pathTest(): PathTestView {
  const forwardHops = path(lab.forward);
  const reverseHops = path(lab.reverse);
  const aliases = routeBackAliases();
  const labels = { a: "fra", b: "sin" };
  const targets = aliasTargets(forwardHops, reverseHops, { aAddress: lab.a, bAddress: lab.b, labels });
  const followUps = (from: "a" | "b") =>
    targets
      .filter((t) => t.from === from)
      .map((t) => aliasFollowUp(t, aliases.find((o) => o.from === from && o.target === t.target) ?? null));
  const comparison = compare(forwardHops, reverseHops, {
    forward: { destination: lab.b },
    reverse: { destination: lab.a },
    labels,
    aliases,
  });
  // As the path-test service stores them: each hop with its router's id.
  const ids = routerIdsByTtl(comparison);
  const withIds = (hops: Hop[], byTtl: Map<number, string>) =>
    hops.map((h) => (byTtl.has(h.ttl) ? { ...h, routerId: byTtl.get(h.ttl) } : h));
  return {
    id: "pt1",
    status: "done",
    a: "fra",
    b: "sin",
    aAddress: lab.a,
    bAddress: lab.b,
    options: TraceOptions.parse({}),
    created: "2026-11-23T07:00:00.000Z",
    forward: { ...trace("tf", "fra", lab.b, withIds(forwardHops, ids.forward)), followUps: followUps("a") },
    reverse: { ...trace("tr", "sin", lab.a, withIds(reverseHops, ids.reverse)), followUps: followUps("b") },
    comparison,
    note: null,
  };
}
