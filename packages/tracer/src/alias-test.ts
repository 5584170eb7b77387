import { isIP } from "node:net";
import { TracerError } from "./errors";
import type { ProbeOutcome, ProbeSpec } from "./packet/types";

/** Sends one probe and resolves with its outcome (the Tracer is one: `tracer.probe`). */
export interface Prober {
  probe(probe: ProbeSpec, signal?: AbortSignal): Promise<ProbeOutcome>;
}

/** Echo probes per direction of the test (one lost probe does not decide it). */
export const ALIAS_TEST_PROBES = 3;
/** TTL of the test's probes. */
export const ALIAS_TEST_TTL = 64;
/** Default wait for an answer, whole seconds. */
export const ALIAS_TEST_TIMEOUT_SEC = 2;

/** Are two addresses one router's? `unknown` when the test could not tell. */
export type AliasVerdict = "same-router" | "different" | "unknown";

/**
 * What the replies to echo probes sent to `to` with the prespecified timestamps `[to, other]` showed:
 * `both` stamped, `first-only` (`to` stamped, `other` not), `mixed` (replies disagree), `none` (no
 * reply brought a stamp of `to`: no answer, the option stripped or refused, or timestamps unsupported).
 */
export interface TimestampProbing {
  to: string;
  other: string;
  sent: number;
  replies: number;
  stamped: "both" | "first-only" | "mixed" | "none";
  /** A router answered the option with a parameter problem. */
  refusedBy?: string;
}

export interface TimestampAliasResult {
  a: string;
  b: string;
  verdict: AliasVerdict;
  /** The test that gave it, as @lg/analysis names identity tests. */
  test: "timestamp";
  /** Why, in words. */
  evidence: string;
  probings: [TimestampProbing, TimestampProbing];
}

export interface TimestampAliasOptions {
  a: string;
  b: string;
  /** Wait for each answer, whole seconds (default 2). */
  timeoutSec?: number;
  /** Source address of the probes (an address of this host). */
  sourceAddress?: string;
  signal?: AbortSignal;
}

/**
 * The prespecified-timestamp alias test (IPv4, lg-probe), designed on what Linux routers do (helper
 * README): a node stamps only the entry the pointer is at, only if that address is its own, at most
 * once per pass — and the target of an echo passes twice: as the request arrives, and as it sends the
 * reply, which carries the option back. So an echo to `a` naming `[a, b]` comes back with both
 * stamped when `b` is also an address of `a`'s router (it stamps `a` on receipt, `b` as it replies).
 *
 * One direction alone can be fooled: `b`'s router, if it lies on the way back from `a`'s router to
 * this host, stamps `b` as the reply passes. So the test runs both ways — an echo to `a` naming
 * `[a, b]` and an echo to `b` naming `[b, a]` — and says `same-router` only when both come back with
 * both stamped. Two routers cannot each lie on the other's way back (routes towards this host form a
 * tree), so one of the two probings of different routers shows its target stamped and the other
 * address not: `different`. Anything else (no reply, no stamp of the probed address, replies that
 * disagree, a parameter problem) is `unknown`.
 *
 * @example
 * const r = await timestampAliasTest(tracer, { a: "198.18.150.2", b: "198.18.170.1" });
 * r.verdict; // "same-router"
 */
export async function timestampAliasTest(
  prober: Prober,
  opts: TimestampAliasOptions,
): Promise<TimestampAliasResult> {
  const { a, b } = opts;
  for (const address of [a, b])
    if (isIP(address) !== 4)
      throw new TracerError(
        "invalid-argument",
        `the timestamp alias test takes IPv4 addresses (the Timestamp option is IPv4's): ${address}`,
      );
  if (a === b)
    throw new TracerError("invalid-argument", `the timestamp alias test needs two addresses, not ${a} twice`);
  const timeoutSec = opts.timeoutSec ?? ALIAS_TEST_TIMEOUT_SEC;
  const probing = async (to: string, other: string): Promise<TimestampProbing> => {
    const probe: ProbeSpec = {
      family: 4,
      address: to,
      ttl: ALIAS_TEST_TTL,
      protocol: "icmp",
      timeoutSec,
      timestamps: [to, other],
    };
    if (opts.sourceAddress !== undefined) probe.sourceAddress = opts.sourceAddress;
    const outcomes = await Promise.all(
      Array.from({ length: ALIAS_TEST_PROBES }, () => prober.probe({ ...probe }, opts.signal)),
    );
    return readProbing(to, other, outcomes);
  };
  const probings: [TimestampProbing, TimestampProbing] = await Promise.all([probing(a, b), probing(b, a)]);
  return { a, b, test: "timestamp", ...verdictOf(probings), probings };
}

/** What one direction's replies show (see TimestampProbing). */
export function readProbing(to: string, other: string, outcomes: ProbeOutcome[]): TimestampProbing {
  const failed = outcomes.find((o) => o.kind === "failure");
  if (failed && failed.kind === "failure" && outcomes.every((o) => o.kind === "failure"))
    throw new TracerError(
      failed.reason === "helper-failed" ? "unsupported" : "packet-helper",
      `the timestamp alias test could not send its probes: ${failed.detail ?? failed.reason}`,
    );
  const readings: ("both" | "first-only")[] = [];
  let replies = 0;
  let refusedBy: string | undefined;
  for (const o of outcomes) {
    if (o.kind === "no-reply" || o.kind === "failure") continue;
    if (o.optionsRefused) refusedBy ??= o.address;
    if (o.kind !== "reply" || o.address !== to) continue;
    replies++;
    const first = o.timestamps?.find((t) => t.address === to);
    const second = o.timestamps?.find((t) => t.address === other);
    if (!first || first.ms === null || !second) continue;
    readings.push(second.ms === null ? "first-only" : "both");
  }
  const kinds = new Set(readings);
  const stamped =
    kinds.size === 0 ? "none" : kinds.size > 1 ? "mixed" : (readings[0] as "both" | "first-only");
  const probing: TimestampProbing = {
    to,
    other,
    sent: outcomes.filter((o) => o.kind !== "failure").length,
    replies,
    stamped,
  };
  if (refusedBy !== undefined) probing.refusedBy = refusedBy;
  return probing;
}

/** The verdict of the two probings, in words (see timestampAliasTest). */
export function verdictOf(probings: [TimestampProbing, TimestampProbing]): {
  verdict: AliasVerdict;
  evidence: string;
} {
  const [ab, ba] = probings;
  const split = probings.find((p) => p.stamped === "first-only");
  if (split)
    return {
      verdict: "different",
      evidence: `an echo to ${split.to} naming [${split.to}, ${split.other}] came back with ${split.to} stamped and ${split.other} not: the router that answers ${split.to} does not hold ${split.other}`,
    };
  if (ab.stamped === "both" && ba.stamped === "both")
    return {
      verdict: "same-router",
      evidence: `echoes to ${ab.to} naming [${ab.to}, ${ab.other}] and to ${ba.to} naming [${ba.to}, ${ba.other}] both came back with both addresses stamped: one router holds both`,
    };
  const why = probings
    .filter((p) => p.stamped !== "both")
    .map((p) => {
      if (p.refusedBy !== undefined) return `${p.refusedBy} refused the Timestamp option (parameter problem)`;
      if (p.replies === 0) return `${p.to} did not answer ${p.sent} echo probes with the option`;
      if (p.stamped === "mixed") return `the replies of ${p.to} disagree`;
      return `${p.to} answered without stamping its own address (the option stripped, or timestamps not supported)`;
    });
  return { verdict: "unknown", evidence: `no reading: ${why.join("; ")}` };
}
