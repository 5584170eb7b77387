/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { AdaptiveRun, Diagnosis, Finding, Hop, TraceView } from "@lg/protocol";
import { natWords, recordRouteWords } from "@lg/tracer";
import { FINDING_TITLES, findingsByFirstHop, hopSeverity, REGION_WORDS, VERDICT_WORDS } from "../findings";
import { asLabel, hopName, ms, pct, traceSource } from "../format";
import { PathProfile, RangeBar, scaleOf } from "./charts";
import { FollowUpTable } from "./path-routers";

/** Columns of the mtr-style table, in mtr's order (plus ASN and the chart). */
export const COLUMNS = [
  "Hop",
  "Host",
  "Loss%",
  "Snt",
  "Last",
  "Avg",
  "Best",
  "Wrst",
  "StDev",
  "ASN",
  "Latency",
];

export function hopRange(hops: number[]): string {
  if (hops.length === 0) return "";
  const first = hops[0] as number;
  const last = hops[hops.length - 1] as number;
  return hops.length === 1 ? `hop ${first}` : `hops ${first}–${last}`;
}

export function FindingNote(props: { finding: Finding }) {
  const f = props.finding;
  return (
    <div class={`finding-note finding-${f.severity}`}>
      <p class="finding-title">
        <span class="finding-icon" aria-hidden="true">
          {f.severity === "problem" ? "!" : "i"}
        </span>
        <strong>{FINDING_TITLES[f.code] ?? f.code}</strong>{" "}
        <span class="finding-where">
          {hopRange(f.hops)} · {REGION_WORDS[f.region]}
        </span>
      </p>
      <p class="finding-evidence">{f.evidence}</p>
      <p class="finding-advice">{f.advice}</p>
    </div>
  );
}

export function Verdict(props: { diagnosis: Diagnosis | null; status: TraceView["status"] }) {
  const d = props.diagnosis;
  if (!d) {
    if (props.status === "done" || props.status === "failed") return null;
    return (
      <p class="verdict verdict-pending" role="status">
        Tracing… the reading of the path appears when the trace ends.
      </p>
    );
  }
  return (
    <p class={`verdict verdict-${d.verdict}`}>
      <strong>{VERDICT_WORDS[d.verdict]}.</strong> {d.reason ?? ""}
    </p>
  );
}

/** "95% interval of Loss%: 10.8–60.3%" for the loss cell's tooltip; absent for a hop read without one. */
export function lossIntervalTitle(hop: Hop): string | undefined {
  return hop.lossCi ? `95% interval of Loss%: ${hop.lossCi[0]}–${hop.lossCi[1]}%` : undefined;
}

/** What `--until-sure` added after the requested probes, in one sentence. */
export function untilSureSentence(a: AdaptiveRun): string {
  if (a.decided && a.extraCycles === 0)
    return "Until sure: decided with the requested probes; no more were needed.";
  const more = `${a.extraCycles} more probes per hop (${a.extraProbes} in all; at most ${a.maxExtraCycles} more per hop)`;
  return a.decided
    ? `Until sure: decided after ${more}.`
    : `Until sure: still undecided after ${more}: the finding stays inconclusive.`;
}

/** A hop the operator hides from the public (`LG_PRIVATE_HOPS`): its counts stay, its identity does not. */
export function HiddenHopMark() {
  return (
    <span
      class="hidden-hop"
      title="This PoP's own infrastructure: the operator hides its addresses from the public"
    >
      hidden by the operator
    </span>
  );
}

export interface HopRowProps {
  hop: Hop;
  severity: Finding["severity"] | undefined;
  scaleMax: number;
  /**
   * The row as the live script's `<template>`: every optional part present (name, address,
   * "also …", "hidden by the operator", "???"), the chart cell empty. The script clones it, keeps the parts a hop has and
   * fills them, so a live row is this component's row (see `assets/live.js`).
   */
  template?: boolean;
}

/** One hop of the mtr table: the server's rows and, through `HopRowTemplate`, the live script's. */
export function HopRow(props: HopRowProps) {
  const { hop, template } = props;
  const alive = hop.recv > 0;
  const name = hopName(hop);
  const others = hop.responders.filter((r) => r.address !== hop.host);
  return (
    <tr class={`hop${props.severity ? ` sev-${props.severity}` : ""}`} data-ttl={hop.ttl}>
      <td class="c-hop">
        {props.severity ? (
          <span
            class={`flag flag-${props.severity}`}
            title={props.severity === "problem" ? "problem" : "note"}
          >
            {props.severity === "problem" ? "!" : "i"}
          </span>
        ) : null}
        {hop.ttl}.
      </td>
      <td class="c-host">
        {hop.host || template ? (
          <>
            {name || template ? <span class="name">{name}</span> : null}
            <span class="addr">{hop.host}</span>
            {others.length > 0 || template ? (
              <span class="others">
                {others.length > 0 ? `also ${others.map((r) => r.name ?? r.address).join(", ")}` : ""}
              </span>
            ) : null}
          </>
        ) : null}
        {hop.hidden || template ? <HiddenHopMark /> : null}
        {(hop.host || hop.hidden) && !template ? null : <span class="silent">???</span>}
      </td>
      <td class={`c-num c-loss${hop.lossPct > 0 ? " lossy" : ""}`} title={lossIntervalTitle(hop)}>
        {pct(hop.lossPct)}
      </td>
      <td class="c-num c-snt">{hop.sent}</td>
      <td class="c-num c-last">{alive ? ms(hop.last) : ""}</td>
      <td class="c-num c-avg">{alive ? ms(hop.avg) : ""}</td>
      <td class="c-num c-best">{alive ? ms(hop.best) : ""}</td>
      <td class="c-num c-wrst">{alive ? ms(hop.worst) : ""}</td>
      <td class="c-num c-stdev">{alive ? ms(hop.stdev) : ""}</td>
      <td class="c-asn" title={hop.owner}>
        {asLabel(hop)}
      </td>
      <td class="c-chart">{template ? null : <RangeBar hop={hop} scaleMax={props.scaleMax} />}</td>
    </tr>
  );
}

/** The hop the template row is drawn from: nothing answered yet. */
const BLANK_HOP: Hop = {
  ttl: 0,
  host: null,
  lossPct: 0,
  sent: 0,
  recv: 0,
  drop: 0,
  last: 0,
  avg: 0,
  best: 0,
  worst: 0,
  stdev: 0,
  jitter: 0,
  jitterAvg: 0,
  jitterMax: 0,
  responders: [],
};

/**
 * The `<template>` the live script builds its rows from: `HopRow` itself, so a row filled live and
 * the row the server renders once the trace ends are one renderer's.
 */
export function HopRowTemplate() {
  return (
    <template data-role="hop-row">
      <HopRow hop={BLANK_HOP} severity={undefined} scaleMax={1} template />
    </template>
  );
}

export interface TraceSectionProps {
  trace: TraceView;
  region?: string | undefined;
  /** Where the PoP is (its agent's `LG_CITY`). */
  place?: string | undefined;
  /** How to name the trace's source (default its agent id). */
  label?: string | undefined;
  /** Leave out the path picture (the compare page draws its own). */
  noProfile?: boolean;
  /**
   * List the trace's follow-up probes under its table (the measurement page). The path-test page
   * lists them in its own table with the alias traces.
   */
  followUps?: boolean;
}

/** One PoP's trace: heading, verdict, the path picture, and the mtr table with findings beside their hops. */
export function TraceSection(props: TraceSectionProps) {
  const t = props.trace;
  const byHop = findingsByFirstHop(t.diagnosis);
  const scaleMax = scaleOf([t.hops]);
  const placed = new Set<number>();
  const final = t.status === "done" || t.status === "failed";
  return (
    <section
      class="pop card"
      id={`trace-${t.id}`}
      data-trace={t.id}
      data-status={t.status}
      aria-labelledby={`h-${t.id}`}
    >
      <header class="pop-head">
        <h2 id={`h-${t.id}`}>
          <span class="pop-name">{props.label ?? traceSource(t)}</span>
          {props.region ? <span class="pop-region">{props.region}</span> : null}
          {props.place ? <span class="pop-place">{props.place}</span> : null}
        </h2>
        <span class="arrow" aria-hidden="true">
          →
        </span>
        <span class="pop-target">{t.address ?? t.target}</span>
        <span class={`status status-${t.status}`} data-role="status">
          {t.status}
        </span>
      </header>
      {t.failure ? (
        <p class={`banner banner-failed failure-${t.failure.source}`}>
          <strong>
            {t.failure.source === "target" ? "The target could not be traced" : "The trace failed"}:
          </strong>{" "}
          {t.failure.message}
        </p>
      ) : null}
      <Verdict diagnosis={t.diagnosis} status={t.status} />
      {t.adaptive ? (
        <p class="until-sure" data-role="until-sure">
          {untilSureSentence(t.adaptive)}
        </p>
      ) : null}
      {t.nat ? (
        <p class="until-sure" data-role="nat">
          {natWords(t.nat)}
        </p>
      ) : null}
      {t.recordRoute
        ? recordRouteWords(t.recordRoute).map((line) => (
            <p class="until-sure" data-role="record-route">
              {line}
            </p>
          ))
        : null}
      {final && !props.noProfile && t.hops.some((h) => h.recv > 0) ? (
        <figure class="profile-wrap">
          <PathProfile
            lines={[
              {
                label: props.label ?? traceSource(t),
                hops: t.hops,
                problem: t.diagnosis?.verdict === "problem",
              },
            ]}
            title={`Latency and loss per hop from ${props.label ?? traceSource(t)}`}
          />
          <figcaption>Average latency per hop (line), best to worst (band), and loss (red bars).</figcaption>
        </figure>
      ) : null}
      <div class="table-scroll">
        <table class="mtr">
          <thead>
            <tr>
              {COLUMNS.map((c) => (
                <th scope="col" class={c === "Host" || c === "ASN" || c === "Latency" ? "" : "c-num"}>
                  {c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody data-role="hops">
            {t.hops.length === 0 && !final ? (
              <tr class="waiting">
                <td colspan={COLUMNS.length}>Waiting for the first replies…</td>
              </tr>
            ) : null}
            {t.hops.map((hop) => {
              const findings = byHop.get(hop.ttl) ?? [];
              for (const f of findings) placed.add(f.hops[0] ?? 0);
              return (
                <>
                  <HopRow hop={hop} severity={hopSeverity(t.diagnosis, hop.ttl)} scaleMax={scaleMax} />
                  {findings.map((f) => (
                    <tr class={`finding finding-row-${f.severity}`}>
                      <td colspan={COLUMNS.length}>
                        <FindingNote finding={f} />
                      </td>
                    </tr>
                  ))}
                </>
              );
            })}
          </tbody>
        </table>
      </div>
      {[...byHop.entries()]
        .filter(([ttl]) => !placed.has(ttl))
        .flatMap(([, fs]) => fs)
        .map((f) => (
          <FindingNote finding={f} />
        ))}
      {props.followUps ? <FollowUpTable trace={t} label={props.label ?? traceSource(t)} /> : null}
      {final ? null : <HopRowTemplate />}
    </section>
  );
}
