import { RECORD_ROUTE_SLOTS, type RecordRouteHint } from "@lg/protocol";
import type { ProbeAnswer, ProbeOutcome, ProbeSpec } from "./packet/types";
import type { ProbePlan } from "./plan";

/** Echo probes with the Record Route option a trace sends (`--record-route`), and plain ones beside them. */
export { RECORD_ROUTE_PROBES } from "@lg/protocol";
/** Their TTL: far enough for any path (as the follow-up probes'). */
export const RECORD_ROUTE_TTL = 64;

/**
 * One echo probe to the trace's target, with the Record Route option or without (the plain probes
 * tell a path that drops options from a target that does not answer). A pinned ICMP trace's probes
 * keep its flow id, so they follow the path the trace pinned.
 */
export function recordRouteProbe(plan: ProbePlan, timeoutSec: number, withOption: boolean): ProbeSpec {
  const probe: ProbeSpec = {
    family: 4,
    address: plan.address,
    ttl: RECORD_ROUTE_TTL,
    protocol: "icmp",
    tos: plan.tos,
    timeoutSec,
  };
  if (plan.sourceAddress !== undefined) probe.sourceAddress = plan.sourceAddress;
  if (plan.protocol === "icmp" && plan.flow.kind === "pinned" && plan.flow.flowId !== undefined)
    probe.flowId = plan.flow.flowId;
  if (withOption) probe.recordRoute = true;
  return probe;
}

const isAnswer = (o: ProbeOutcome): o is ProbeAnswer =>
  o.kind === "reply" || o.kind === "ttl-expired" || o.kind === "no-route";

/**
 * Splits a Record Route list as Linux fills it: each router records the address it forwards the
 * packet from, the target records the probed address as the probe arrives and again as it answers,
 * then the routers of the way back record theirs, and this host its own as the reply arrives (left
 * out: it is not a hop). A full list (nine slots) without the probed address is all way there;
 * any other list without it cannot be split: both sides stay empty and `recorded` keeps the list.
 *
 * @example
 * splitRecordRoute(["198.18.170.1", "198.18.171.1", "198.18.171.2", "198.18.171.2", "198.18.173.1", "198.18.150.2", "198.18.150.1"],
 *   "198.18.171.2", (a) => a === "198.18.150.1")
 * // { forward: ["198.18.170.1", "198.18.171.1"], back: ["198.18.173.1", "198.18.150.2"] }
 */
export function splitRecordRoute(
  recorded: string[],
  target: string,
  isOwnAddress: (address: string) => boolean,
): { forward: string[]; back: string[] } {
  const at = recorded.indexOf(target);
  // A full list without the target filled up on the way there; any other is not Linux's layout.
  if (at < 0)
    return recorded.length >= RECORD_ROUTE_SLOTS
      ? { forward: recorded, back: [] }
      : { forward: [], back: [] };
  let end = at;
  while (recorded[end + 1] === target) end++;
  const back = recorded.slice(end + 1);
  while (back.length > 0 && isOwnAddress(back.at(-1) as string)) back.pop();
  return { forward: recorded.slice(0, at), back };
}

/**
 * What the Record Route probes showed: `ok` with the addresses of the most common list among the
 * target's replies; `refused` when a parameter problem answered the option, or when no probe with
 * it was answered while plain probes were; `stripped` when the target's replies came without it;
 * `no-answer` when neither kind was answered.
 */
export function recordRouteHint(
  target: string,
  withOption: ProbeOutcome[],
  plain: ProbeOutcome[],
  isOwnAddress: (address: string) => boolean,
): RecordRouteHint {
  const answers = withOption.filter(isAnswer);
  const replies = answers.filter((a) => a.kind === "reply" && a.address === target);
  const plainReplies = plain.filter((o) => isAnswer(o) && o.kind === "reply" && o.address === target);
  const counts = {
    sent: withOption.filter((o) => o.kind !== "failure").length,
    answered: replies.length,
    plainSent: plain.filter((o) => o.kind !== "failure").length,
    plainAnswered: plainReplies.length,
  };
  const lists = replies.map((r) => r.recordRoute ?? []).filter((l) => l.length > 0);
  const recorded = mostCommonList(lists);
  if (recorded !== undefined) {
    const hint: RecordRouteHint = {
      status: "ok",
      ...splitRecordRoute(recorded, target, isOwnAddress),
      recorded,
      ...counts,
    };
    if (recorded.length >= RECORD_ROUTE_SLOTS) hint.full = true;
    return hint;
  }
  const refusal = answers.find((a) => a.optionsRefused);
  const empty = { forward: [], back: [] };
  if (refusal) return { status: "refused", ...empty, refusedBy: refusal.address, ...counts };
  if (replies.length > 0) return { status: "stripped", ...empty, ...counts };
  if (plainReplies.length > 0) return { status: "refused", ...empty, ...counts };
  return { status: "no-answer", ...empty, ...counts };
}

function mostCommonList(lists: string[][]): string[] | undefined {
  const counts = new Map<string, { list: string[]; n: number }>();
  for (const list of lists) {
    const key = list.join(",");
    const entry = counts.get(key) ?? { list, n: 0 };
    entry.n++;
    counts.set(key, entry);
  }
  let best: { list: string[]; n: number } | undefined;
  for (const entry of counts.values()) if (!best || entry.n > best.n) best = entry;
  return best?.list;
}
