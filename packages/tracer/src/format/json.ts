import { hostname } from "node:os";
import type { TraceResult } from "../tracer";
import { type Field, fieldsOf } from "./fields";
import { hostLabel, type NamingOptions } from "./naming";

export interface MtrJsonOptions extends NamingOptions {
  localHostname?: string;
  fields?: string;
}

/** mtr keeps times as integer microseconds: values carry at most three decimals of milliseconds. */
const ms3 = (v: number) => Math.round(v * 1000) / 1000;

/**
 * The trace in `mtr --json`'s schema (mtr 0.95): `report.mtr` {src, dst, tos, tests, psize,
 * bitpattern} and `report.hubs[]` {count, host, Loss%, Snt, Last, Avg, Best, Wrst, StDev}, so
 * scripts written for mtr read it unchanged. Everything mtr does not have (every responder with
 * its count, jitter, MPLS, raw counts, each hop's 95% loss interval `lossCi`, why the trace
 * stopped, follow-up probes, what `--until-sure` added, a NAT reading, Record Route hints) is under
 * the separate top-level key `lg`.
 */
export function formatMtrJson(result: TraceResult, opts: MtrJsonOptions = {}): object {
  const fields: Field[] = fieldsOf(opts.fields).filter((f) => f.key !== " " && !f.text);
  const hubs = result.hops.map((hop) => {
    const hub: Record<string, number | string> = { count: hop.ttl, host: hostLabel(hop, opts) };
    for (const f of fields) hub[f.title] = f.decimal ? ms3(f.value(hop)) : f.value(hop);
    return hub;
  });
  return {
    report: {
      mtr: {
        src: opts.localHostname ?? hostname(),
        dst: result.target,
        tos: result.options.tos,
        tests: result.options.count,
        psize: String(result.options.size),
        bitpattern: "0x00",
      },
      hubs,
    },
    lg: {
      version: 1,
      target: result.target,
      address: result.address,
      startedAt: result.startedAt,
      finishedAt: result.finishedAt,
      reachedDestination: result.reachedDestination,
      stoppedBy: result.stoppedBy,
      options: result.options,
      ...(result.unsentProbes ? { unsentProbes: result.unsentProbes } : {}),
      ...(result.followUps ? { followUps: result.followUps } : {}),
      ...(result.adaptive ? { adaptive: result.adaptive } : {}),
      ...(result.nat ? { nat: result.nat } : {}),
      ...(result.recordRoute ? { recordRoute: result.recordRoute } : {}),
      hops: result.hops,
    },
  };
}

/** `formatMtrJson` as text, indented like mtr's. */
export function formatMtrJsonText(result: TraceResult, opts: MtrJsonOptions = {}): string {
  return `${JSON.stringify(formatMtrJson(result, opts), null, 4)}\n`;
}
