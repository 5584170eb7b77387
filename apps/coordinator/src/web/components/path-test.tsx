/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { segmentRows } from "@lg/analysis";
import type { AgentView, Comparison, ComparisonSegment, PathTestView, SegmentHop } from "@lg/protocol";
import { ms, pct } from "../format";
import { Layout } from "./layout";
import { FollowUpTable, LossReadingCard, placeWords, RouterTable } from "./path-routers";
import { pathTestMapLines, RouteMap } from "./route-map";
import { TraceSection } from "./trace-section";

export const endpointLabel = (e: PathTestView["b"]) => (typeof e === "string" ? e : e.host);

/** A customer's temporary join agent is named for people as "customer", other agents by their id. */
export const agentLabel = (id: string | undefined, agents: Map<string, AgentView>) =>
  id === undefined
    ? "customer (uploaded)"
    : agents.get(id)?.role === "join" || id.startsWith("join-")
      ? "customer"
      : id;

/** The region of a trace's agent (none for an uploaded trace). */
const regionOf = (id: string | undefined, agents: Map<string, AgentView>) =>
  id === undefined ? undefined : agents.get(id)?.region;

/** The city a trace's agent says it is in (`LG_CITY`), shown beside the PoP. */
export const cityOf = (id: string | undefined, agents: Map<string, AgentView>) =>
  id === undefined ? undefined : agents.get(id)?.location?.city;

export const FAULT_WORDS: Record<Comparison["faultDirection"], (a: string, b: string) => string> = {
  forward: (a, b) => `The problem is on the way there (${a} → ${b}); the way back is clean.`,
  reverse: (a, b) => `The problem is on the way back (${b} → ${a}); the way there is clean.`,
  both: () => "Both directions show a real problem.",
  none: () => "Neither direction shows a real problem.",
  undetermined: () =>
    "A direction loses packets, and the evidence cannot tell which one (see “Where the loss is” below).",
};

const SEGMENT_WORDS: Record<ComparisonSegment["kind"], string> = {
  shared: "shared: both directions cross these routers",
  diverged: "diverged: the directions take different routers",
  unresolved: "unresolved: silent hops that cannot be told apart",
};

function hopText(h: SegmentHop): string {
  if (!h.address) return "???";
  return h.name && h.name !== h.address ? `${h.name} (${h.address})` : h.address;
}

/** What a side adds across a segment, in words ("+25.0% loss, +12.0 ms"), or "". */
function added(side: ComparisonSegment["forward"]): string {
  const parts: string[] = [];
  if (side.addedLossPct >= 0.05) parts.push(`+${pct(side.addedLossPct)} loss`);
  if (side.addedLatencyMs >= 0.05) parts.push(`+${ms(side.addedLatencyMs)} ms`);
  return parts.join(", ");
}

/**
 * The two directions as a route map, left (a) to right (b): shared segments are one green line
 * that both directions travel; where they diverge the forward path runs above and the reverse path
 * below; unresolved stretches are dashed. Each dot is a hop (its TTL in its own direction); on a
 * shared line a dot is one router, numbered above for the way there and below for the way back.
 */
export function SegmentMap(props: { comparison: Comparison; a: string; b: string }) {
  const segs = props.comparison.segments;
  const rowsOf = segmentRows(props.comparison);
  const slots = segs.map((s, i) =>
    s.kind === "shared"
      ? Math.max(1, rowsOf[i]?.length ?? 0)
      : Math.max(1, s.forward.hops.length, s.reverse.hops.length),
  );
  const total = slots.reduce((n, s) => n + s, 0);
  const w = 760;
  const h = 170;
  const left = 60;
  const right = 60;
  const mid = 85;
  const lane = 38;
  const unit = (w - left - right) / Math.max(1, total);
  let cursor = left;
  const parts = segs.map((s, i) => {
    const x0 = cursor;
    const x1 = cursor + (slots[i] as number) * unit;
    cursor = x1;
    return { s, x0, x1, rows: rowsOf[i] ?? [] };
  });
  const dotX = (x0: number, x1: number, n: number, k: number) => x0 + ((k + 0.5) / n) * (x1 - x0);
  const title = `Route map between ${props.a} and ${props.b}: ${props.comparison.verdict}`;
  const ends = { a: props.a, b: props.b };
  return (
    <svg class="segmap" viewBox={`0 0 ${w} ${h}`} role="img" aria-label={title}>
      <title>{title}</title>
      <text class="lane-label" x="4" y={mid - lane - 10}>
        there →
      </text>
      <text class="lane-label" x="4" y={mid + lane + 20}>
        ← back
      </text>
      {parts.map(({ s, x0, x1, rows }) => {
        if (s.kind === "shared") {
          const n = Math.max(1, rows.length);
          return (
            <g class="seg seg-shared">
              <line class="seg-line" x1={x0} x2={x1} y1={mid} y2={mid} />
              {rows.map((row, k) => {
                const f = row.forward;
                const r = row.reverse;
                const x = dotX(x0, x1, n, k);
                const lossy = (f?.lossPct ?? 0) > 0 || (r?.lossPct ?? 0) > 0;
                const words = [
                  f ? `there: hop ${f.ttl} ${hopText(f)}, ${pct(f.lossPct)} loss` : null,
                  r ? `back: hop ${r.ttl} ${hopText(r)}, ${pct(r.lossPct)} loss` : null,
                  placeWords(row, ends),
                ].filter((x): x is string => !!x);
                return (
                  <g>
                    <circle class={`hop-dot${lossy ? " hop-lossy" : ""}`} cx={x} cy={mid} r="6">
                      <title>{words.join("; ")}</title>
                    </circle>
                    {f ? (
                      <text class="dot-label" x={x} y={mid - 12} text-anchor="middle">
                        {f.ttl}
                      </text>
                    ) : null}
                    {r ? (
                      <text class="dot-label" x={x} y={mid + 22} text-anchor="middle">
                        {r.ttl}
                      </text>
                    ) : null}
                  </g>
                );
              })}
            </g>
          );
        }
        const cls = s.kind === "diverged" ? "seg seg-diverged" : "seg seg-unresolved";
        const lanePath = (y: number) =>
          `M${x0},${mid} C${x0 + unit * 0.3},${mid} ${x0 + unit * 0.2},${y} ${x0 + unit * 0.5},${y} L${x1 - unit * 0.5},${y} C${x1 - unit * 0.2},${y} ${x1 - unit * 0.3},${mid} ${x1},${mid}`;
        const sides = [
          { side: s.forward, y: mid - lane, dir: "there", cls: "lane-forward", labelY: -12 },
          { side: s.reverse, y: mid + lane, dir: "back", cls: "lane-reverse", labelY: 22 },
        ];
        return (
          <g class={cls}>
            {sides.map(({ side, y, dir, cls: laneCls, labelY }) => (
              <g class={laneCls}>
                <path class="seg-line" d={lanePath(y)} />
                {side.hops.map((hop, k) => {
                  const x = dotX(x0 + unit * 0.5, x1 - unit * 0.5, Math.max(1, side.hops.length), k);
                  const place = hop.identity ? `, ${IDENTITY_WORDS[hop.identity]}` : "";
                  return (
                    <g>
                      <circle class={`hop-dot${hop.lossPct > 0 ? " hop-lossy" : ""}`} cx={x} cy={y} r="6">
                        <title>{`${dir}: hop ${hop.ttl} ${hopText(hop)}, ${pct(hop.lossPct)} loss, ${ms(hop.avg)} ms${place}`}</title>
                      </circle>
                      <text class="dot-label" x={x} y={y + labelY} text-anchor="middle">
                        {hop.ttl}
                      </text>
                    </g>
                  );
                })}
                {added(side) ? (
                  <text
                    class={side.addedLossPct >= 0.05 ? "seg-added" : "seg-added seg-added-ms"}
                    x={(x0 + x1) / 2}
                    y={y + (labelY < 0 ? -26 : 36)}
                    text-anchor="middle"
                  >
                    {added(side)}
                  </text>
                ) : null}
              </g>
            ))}
          </g>
        );
      })}
      <circle class="endpoint" cx={left - 18} cy={mid} r="11" />
      <text class="endpoint-label" x={left - 18} y={mid + 4} text-anchor="middle">
        A
      </text>
      <circle class="endpoint" cx={w - right + 18} cy={mid} r="11" />
      <text class="endpoint-label" x={w - right + 18} y={mid + 4} text-anchor="middle">
        B
      </text>
    </svg>
  );
}

/** A hop's identity in a dot's hover. */
const IDENTITY_WORDS: Record<NonNullable<SegmentHop["identity"]>, string> = {
  shared: "a router both directions cross",
  own: "a router only this direction crosses",
  unknown: "not identified on the other side",
};

/**
 * What a direction's trace picks up across a segment. Loss the loss reading puts on the other
 * direction is that trace's replies' way back, so it is said so and not drawn as this direction's.
 */
function AddedText(props: { side: ComparisonSegment["forward"]; dir: string; repliesOnly: boolean }) {
  const lossy = props.side.addedLossPct >= 0.05;
  if (lossy && props.repliesOnly) {
    return (
      <p class="seg-added-text seg-added-ms">
        {props.dir}: its trace picks up {added(props.side)} here; the loss is its replies' way back (see
        “Where the loss is”)
      </p>
    );
  }
  return (
    <p class={lossy ? "seg-added-text" : "seg-added-text seg-added-ms"}>
      {props.dir} adds {added(props.side)}
    </p>
  );
}

/** Under a trace whose loss the two traces put on the other direction: read it with that in mind. */
function RepliesNote(props: { label: string; other: string }) {
  return (
    <p class="banner banner-replies">
      The loss this trace shows is its replies' way back over {props.other}, not {props.label} itself: see
      “Where the loss is” above.
    </p>
  );
}

const showsLoss = (trace: PathTestView["forward"]) =>
  trace.diagnosis?.findings.some((f) => f.code === "real-loss") ?? false;

/** Whether the loss reading shows a direction's trace loss is only its replies' (the other direction loses). */
function repliesOnly(c: Comparison, direction: "forward" | "reverse"): boolean {
  const loss = c.loss;
  if (!loss || loss.reading === "undetermined") return false;
  return !loss.stretches.some((s) => s.direction === direction);
}

/**
 * Forward and reverse side by side, segment by segment, in the order of the way there: per segment a
 * table of its routers (a router both directions cross on one line; each direction's own routers,
 * and those not identified on the other side, on lines of their own), with the evidence.
 */
export function SegmentTable(props: { comparison: Comparison; a: string; b: string }) {
  const rows = segmentRows(props.comparison);
  const ends = { a: props.a, b: props.b };
  return (
    <div class="segments">
      {props.comparison.segments.map((s, i) => (
        <div class={`segment segment-${s.kind}`}>
          <RouterTable
            rows={rows[i] ?? []}
            ends={ends}
            caption={`Segment ${i + 1} of ${props.comparison.segments.length} · ${SEGMENT_WORDS[s.kind]}`}
          />
          {added(s.forward) ? (
            <AddedText
              side={s.forward}
              dir={`there (${props.a} → ${props.b})`}
              repliesOnly={repliesOnly(props.comparison, "forward")}
            />
          ) : null}
          {added(s.reverse) ? (
            <AddedText
              side={s.reverse}
              dir={`back (${props.b} → ${props.a})`}
              repliesOnly={repliesOnly(props.comparison, "reverse")}
            />
          ) : null}
        </div>
      ))}
    </div>
  );
}

export interface PathTestBodyProps {
  test: PathTestView;
  agents: Map<string, AgentView>;
  /** Heading level text before the endpoints, e.g. "Leg 1". */
  heading?: string;
}

/** A path test: the verdict on top, the route map, both directions side by side, then both traces. */
export function PathTestBody(props: PathTestBodyProps) {
  const t = props.test;
  const a = agentLabel(t.a, props.agents);
  const b = typeof t.b === "string" ? agentLabel(t.b, props.agents) : endpointLabel(t.b);
  const c = t.comparison;
  const final = t.status === "done";
  return (
    <div
      class="pathtest"
      data-path-test={t.id}
      data-status={t.status}
      data-live-events={`/api/v1/path-tests/${encodeURIComponent(t.id)}/events`}
      data-live-fragment={`/p/${encodeURIComponent(t.id)}/trace/`}
      data-live-reload="done"
    >
      <section class="m-head">
        <h1>
          {props.heading ? <span class="muted">{props.heading} · </span> : null}
          <span class="m-target">{a}</span> <span class="muted">⇄</span> <span class="m-target">{b}</span>
        </h1>
        <p class="m-meta">
          {t.aAddress} ⇄ {t.bAddress} · {t.options.protocol.toUpperCase()} · {t.options.count} packets per hop
          · <span class={`status status-${t.status}`}>{t.status}</span>
        </p>
      </section>
      {c ? (
        <section class={`verdict-box card verdict-${c.faultDirection === "none" ? "clean" : "problem"}`}>
          <p class="verdict-line">
            <span class={`chip chip-${c.verdict}`}>
              {c.verdict === "symmetric" ? "Symmetric" : "Asymmetric"}
            </span>
            <strong>{FAULT_WORDS[c.faultDirection](a, b)}</strong>
          </p>
          <p class="summary">{c.summary}</p>
        </section>
      ) : final ? (
        <p class="banner banner-pending">
          <strong>Only the way there could be traced.</strong> {t.note ?? ""}
        </p>
      ) : (
        <p class="banner banner-pending" role="status">
          Tracing both directions… the verdict appears when both traces end.
        </p>
      )}
      {c ? (
        <figure class="card profile-wrap">
          <SegmentMap comparison={c} a={a} b={b} />
          <figcaption>
            Green: both directions cross the same routers (a dot there is one router, its hop number on the
            way there above and on the way back below). Orange: the way there (above) and the way back (below)
            part. Dashed: silent hops. Red dots lose probes.
          </figcaption>
        </figure>
      ) : null}
      {c ? (
        <section class="card" aria-label={`Routers of ${a} → ${b} and ${b} → ${a}, segment by segment`}>
          <SegmentTable comparison={c} a={a} b={b} />
        </section>
      ) : null}
      {c?.loss ? <LossReadingCard loss={c.loss} ends={{ a, b }} id={t.id} /> : null}
      <RouteMap
        lines={pathTestMapLines({ a, b }, t.forward, t.reverse, props.agents)}
        subject={b}
        keys={[`the way there: ${a} → ${b}`, `the way back: ${b} → ${a}`]}
      />
      <h2 class="section-title">
        The way there: {a} → {b}
      </h2>
      {c && repliesOnly(c, "forward") && showsLoss(t.forward) ? (
        <RepliesNote label={`${a} → ${b}`} other={`${b} → ${a}`} />
      ) : null}
      <TraceSection
        trace={t.forward}
        region={regionOf(t.forward.agentId, props.agents)}
        place={cityOf(t.forward.agentId, props.agents)}
        label={agentLabel(t.forward.agentId, props.agents)}
      />
      <FollowUpTable trace={t.forward} label={a} />
      {t.reverse ? (
        <>
          <h2 class="section-title">
            The way back: {b} → {a}
          </h2>
          {c && repliesOnly(c, "reverse") && showsLoss(t.reverse) ? (
            <RepliesNote label={`${b} → ${a}`} other={`${a} → ${b}`} />
          ) : null}
          <TraceSection
            trace={t.reverse}
            region={regionOf(t.reverse.agentId, props.agents)}
            place={cityOf(t.reverse.agentId, props.agents)}
            label={agentLabel(t.reverse.agentId, props.agents)}
          />
          <FollowUpTable trace={t.reverse} label={b} />
        </>
      ) : null}
    </div>
  );
}

export function PathTestPage(props: PathTestBodyProps) {
  const t = props.test;
  return (
    <Layout title={`Path test ${t.a} ⇄ ${endpointLabel(t.b)}`} live={t.status !== "done"}>
      <PathTestBody {...props} />
    </Layout>
  );
}
