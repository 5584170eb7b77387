import type { Diagnosis, Hop, MonitorRuleName, MonitorRules } from "@lg/protocol";
import { changedSegment, learnRoute, type Route, routeOf, routeText, segmentText } from "./path-change";

/** One trace of a run, named by its subject (a PoP id, or `forward`/`reverse` of a path test). */
export interface Observation {
  subject: string;
  traceId: string;
  status: "done" | "failed" | "queued" | "running";
  hops: Hop[];
  diagnosis: Diagnosis | null;
  /** The address the trace went to. */
  address: string | null;
  /** A path-test monitor's direction (its subject). */
  direction?: "forward" | "reverse";
  /**
   * A path test's router identity (`comparison.routers`): router id -> every address the router was
   * seen answering from, in either direction. Hops carry the id (`routerId`).
   */
  identity?: ReadonlyMap<string, readonly string[]>;
}

/** What one rule remembers about one subject between runs. */
export interface Streak {
  /** Consecutive runs the condition held / did not hold. */
  bad: number;
  good: number;
  firing: boolean;
  /** latency: the destination's usual average RTT. */
  baseline?: number;
  /** pathChange: the stable route, and the route seen while it differs. */
  route?: Route;
  candidate?: Route;
}

/** Rule name -> subject -> streak. */
export type RulesState = Partial<Record<MonitorRuleName, Record<string, Streak>>>;

export interface Transition {
  rule: MonitorRuleName;
  subject: string;
  event: "fire" | "resolve";
  evidence: Record<string, unknown>;
}

/** The last hop that answered: the destination when the trace reached it. */
export function destinationHop(hops: Hop[]): Hop | undefined {
  for (let i = hops.length - 1; i >= 0; i--) {
    const h = hops[i] as Hop;
    if (h.host !== null) return h;
  }
  return undefined;
}

/** Loss the rule looks at: the destination's, or the worst hop of a `real-loss` finding. */
export function lossOf(o: Observation): { pct: number; where: string; finding?: string } {
  const dest = destinationHop(o.hops);
  let pct = dest?.lossPct ?? 100;
  let where = `destination ${dest?.host ?? o.address ?? "?"}`;
  let finding: string | undefined;
  for (const f of o.diagnosis?.findings ?? []) {
    if (f.code !== "real-loss" || f.severity !== "problem") continue;
    const worst = Math.max(...f.hops.map((ttl) => o.hops.find((h) => h.ttl === ttl)?.lossPct ?? 0));
    if (worst > pct) {
      pct = worst;
      where = `hop ${f.hops[0]} (real loss)`;
    }
    finding = f.evidence;
  }
  return { pct, where, ...(finding ? { finding } : {}) };
}

function streakOf(state: RulesState, rule: MonitorRuleName, subject: string): Streak {
  const byRule = state[rule] ?? {};
  state[rule] = byRule;
  const found = byRule[subject] ?? { bad: 0, good: 0, firing: false };
  byRule[subject] = found;
  return found;
}

/**
 * Moves a streak on by one run: a condition that held `runs` times in a row fires, one that
 * cleared `runs` times in a row resolves. Returns the event, if any.
 */
function step(s: Streak, bad: boolean, runs: number): "fire" | "resolve" | undefined {
  if (bad) {
    s.bad += 1;
    s.good = 0;
    if (!s.firing && s.bad >= runs) {
      s.firing = true;
      return "fire";
    }
  } else {
    s.good += 1;
    s.bad = 0;
    if (s.firing && s.good >= runs) {
      s.firing = false;
      return "resolve";
    }
  }
  return undefined;
}

/**
 * The pathChange rule for one trace: its routers (`routeOf`: the router identity of a path test,
 * an ECMP hop's known responders as one place, the AS path where no router answered) against the
 * last stable route. A different route fires at once, with the segment that changed (and, for a path
 * test, the direction); it resolves when the stable route is back, or when the new one has held for
 * `runs` runs and becomes the stable route itself (`adopted`).
 */
function pathChange(runs: number, s: Streak, o: Observation, out: Transition[]): void {
  const now = routeOf(o.hops, o.address, o.identity);
  // A state from before routes were kept (`path` strings) starts again from this run.
  if (!s.route) {
    s.route = now;
    return;
  }
  const base = {
    traceId: o.traceId,
    target: o.address,
    ...(o.direction ? { direction: o.direction } : {}),
  };
  const segment = changedSegment(s.route, now);
  if (!segment) {
    s.route = learnRoute(s.route, now);
    s.candidate = undefined;
    s.bad = 0;
    if (s.firing) {
      s.firing = false;
      out.push({
        rule: "pathChange",
        subject: o.subject,
        event: "resolve",
        evidence: { ...base, path: routeText(s.route), back: true },
      });
    }
    return;
  }
  const evidence = {
    ...base,
    previousPath: routeText(s.route),
    path: routeText(now),
    segment: { ...segment, words: segmentText(segment) },
    asPath: now.asPath,
  };
  // The same new route as last run: it holds; another one starts counting again.
  const holds = s.candidate !== undefined && changedSegment(s.candidate, now) === null;
  s.candidate = holds && s.candidate ? learnRoute(s.candidate, now) : now;
  s.bad = holds ? s.bad + 1 : 1;
  s.good = 0;
  if (!s.firing) {
    s.firing = true;
    out.push({ rule: "pathChange", subject: o.subject, event: "fire", evidence });
  } else if (s.bad >= runs) {
    s.firing = false;
    s.route = s.candidate;
    s.candidate = undefined;
    s.bad = 0;
    out.push({
      rule: "pathChange",
      subject: o.subject,
      event: "resolve",
      evidence: { ...evidence, adopted: true },
    });
  }
}

/**
 * Reads one run against a monitor's rules and moves `state` on (in place). Traces that did not
 * finish say nothing about loss, latency or the path; they neither fire nor resolve.
 */
export function evaluateRun(
  rules: MonitorRules,
  state: RulesState,
  observations: Observation[],
  pops: { id: string; online: boolean }[],
): Transition[] {
  const out: Transition[] = [];
  const push = (
    rule: MonitorRuleName,
    subject: string,
    event: "fire" | "resolve" | undefined,
    evidence: Record<string, unknown>,
  ) => {
    if (event) out.push({ rule, subject, event, evidence });
  };

  for (const o of observations) {
    if (o.status !== "done") continue;
    const base = { traceId: o.traceId, target: o.address };
    if (rules.loss) {
      const loss = lossOf(o);
      const s = streakOf(state, "loss", o.subject);
      const event = step(s, loss.pct > rules.loss.pct, rules.loss.runs);
      push("loss", o.subject, event, {
        ...base,
        lossPct: loss.pct,
        where: loss.where,
        thresholdPct: rules.loss.pct,
        consecutiveRuns: event === "fire" ? s.bad : s.good,
        ...(loss.finding ? { finding: loss.finding } : {}),
      });
    }
    const dest = destinationHop(o.hops);
    if (rules.latency && dest && dest.recv > 0) {
      const s = streakOf(state, "latency", o.subject);
      const baseline = s.baseline ?? dest.avg;
      const bad = dest.avg - baseline >= rules.latency.ms;
      const event = step(s, bad, rules.latency.runs);
      // The baseline follows the path only while it is normal, so a step stays a step.
      if (!bad && !s.firing) s.baseline = baseline * 0.7 + dest.avg * 0.3;
      else s.baseline = baseline;
      push("latency", o.subject, event, {
        ...base,
        avgMs: dest.avg,
        baselineMs: Math.round(baseline * 100) / 100,
        stepMs: Math.round((dest.avg - baseline) * 100) / 100,
        thresholdMs: rules.latency.ms,
      });
    }
    if (rules.pathChange) pathChange(rules.pathChange.runs, streakOf(state, "pathChange", o.subject), o, out);
  }

  if (rules.popOffline) {
    for (const pop of pops) {
      const s = streakOf(state, "popOffline", pop.id);
      push("popOffline", pop.id, step(s, !pop.online, 1), { pop: pop.id, online: pop.online });
    }
  }
  return out;
}
