/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { HistoryBucket, HistoryRange, HistorySeries, MonitorHistory, MonitorView } from "@lg/protocol";
import { ms, pct } from "../format";
import { Layout } from "./layout";

/** The ranges a history page offers, in order, with their link text. */
export const HISTORY_RANGES: { range: HistoryRange; label: string; words: string }[] = [
  { range: "1h", label: "1 h", words: "the last hour" },
  { range: "1d", label: "1 d", words: "the last day" },
  { range: "7d", label: "7 d", words: "the last 7 days" },
  { range: "30d", label: "30 d", words: "the last 30 days" },
];

/** Loss classes of the median line, SmokePing-like: the colour says how much an interval lost. */
export const LOSS_CLASSES: { max: number; label: string }[] = [
  { max: 0, label: "no loss" },
  { max: 2, label: "under 2%" },
  { max: 5, label: "2–5%" },
  { max: 10, label: "5–10%" },
  { max: 20, label: "10–20%" },
  { max: 50, label: "20–50%" },
  { max: 100, label: "50% or more" },
];

/** The loss class (0-6) of an interval's loss %. */
export function lossClass(lossPct: number): number {
  if (lossPct <= 0) return 0;
  const i = LOSS_CLASSES.findIndex((c, k) => k > 0 && lossPct < c.max);
  return i < 0 ? LOSS_CLASSES.length - 1 : i;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** "10:40" within a day's range, "11-23 10:40" beyond it (UTC). */
function timeLabel(iso: string, range: HistoryRange): string {
  const d = iso.replace("T", " ");
  return range === "1h" || range === "1d" ? d.slice(11, 16) : d.slice(5, 16);
}

/** An interval in one sentence (the chart's hover and the numbers table say the same). */
export function bucketWords(b: HistoryBucket, bucketSeconds: number): string {
  const end = new Date(Date.parse(b.at) + bucketSeconds * 1000).toISOString();
  const when = `${b.at.slice(0, 16).replace("T", " ")}–${end.slice(11, 16)} UTC`;
  const lost = Math.round((b.sent * b.lossPct) / 100);
  const loss = `loss ${pct(b.lossPct)} (${lost} of ${b.sent})`;
  if (b.median === null) return `${when}: ${b.runs} run${b.runs === 1 ? "" : "s"}, nothing answered, ${loss}`;
  const spread = b.band ? `, spread ${ms(b.band[0])}–${ms(b.band[1])}` : "";
  const extremes = b.range ? `, extremes ${ms(b.range[0])}–${ms(b.range[1])}` : "";
  return `${when}: ${b.runs} run${b.runs === 1 ? "" : "s"}, median ${ms(b.median)} ms${spread}${extremes} ms, ${loss}`;
}

/**
 * One subject's latency distribution over time, SmokePing-style, drawn on the server as SVG: per
 * interval the extremes (light band: lowest Best to highest Wrst), the usual spread (dark band) and
 * the median (a line coloured by the interval's loss); an interval where nothing answered is a mark
 * at the top in the loss colour. Every interval carries its numbers as a hover (`<title>`).
 */
export function HistoryChart(props: { history: MonitorHistory; series: HistorySeries; title: string }) {
  const { history, series } = props;
  const w = 760;
  const h = 230;
  const left = 56;
  const right = 12;
  const top = 14;
  const bottom = 190;
  const from = Date.parse(history.from);
  const to = Math.max(from + 1, Date.parse(history.to));
  const plotW = w - left - right;
  const x = (t: number) => round1(left + ((t - from) / (to - from)) * plotW);
  const width = Math.max(1.5, round1((history.bucketSeconds * 1000 * plotW) / (to - from)));
  // The scale follows the usual latency (the spread), not one outlier: extremes above it are cut.
  const typical = series.buckets.flatMap((b) => [b.band?.[1] ?? b.median ?? 0]);
  const yMax = Math.max(0.2, ...typical) * 1.25;
  const y = (v: number) => round1(top + (1 - Math.min(v, yMax) / yMax) * (bottom - top));
  const ticks = [0, 1, 2, 3, 4].map((i) => from + ((to - from) * i) / 4);
  return (
    <svg class="history-chart" viewBox={`0 0 ${w} ${h}`} role="img" aria-label={props.title}>
      <title>{props.title}</title>
      {[0, yMax / 2, yMax].map((t) => (
        <g>
          <line class="grid" x1={left} x2={w - right} y1={y(t)} y2={y(t)} />
          <text class="axis-label" x={left - 6} y={y(t) + 4} text-anchor="end">
            {`${t >= 10 ? Math.round(t) : round1(t)}${t === yMax ? " ms" : ""}`}
          </text>
        </g>
      ))}
      {ticks.map((t, i) => (
        <text
          class="axis-label"
          x={x(t)}
          y={h - 14}
          text-anchor={i === 0 ? "start" : i === ticks.length - 1 ? "end" : "middle"}
        >
          {timeLabel(new Date(t).toISOString(), history.range)}
        </text>
      ))}
      <text class="axis-label" x={w - right} y={h - 1} text-anchor="end">
        UTC
      </text>
      {series.buckets.map((b) => {
        const x0 = x(Date.parse(b.at));
        const k = lossClass(b.lossPct);
        return (
          <g class="interval">
            <title>{bucketWords(b, history.bucketSeconds)}</title>
            {b.range ? (
              <rect
                class="smoke-range"
                x={x0}
                y={y(b.range[1])}
                width={width}
                height={Math.max(1, round1(y(b.range[0]) - y(b.range[1])))}
              />
            ) : null}
            {b.band ? (
              <rect
                class="smoke-band"
                x={x0}
                y={y(b.band[1])}
                width={width}
                height={Math.max(1, round1(y(b.band[0]) - y(b.band[1])))}
              />
            ) : null}
            {b.median !== null ? (
              <line
                class={`median loss-${k}`}
                x1={x0}
                x2={round1(x0 + width)}
                y1={y(b.median)}
                y2={y(b.median)}
              />
            ) : (
              <rect class={`all-lost loss-${k}`} x={x0} y={top} width={width} height="6" />
            )}
          </g>
        );
      })}
    </svg>
  );
}

/** The chart's key: what the bands are and what each loss colour means (in words, not colour alone). */
export function HistoryLegend() {
  return (
    <div class="history-legend">
      <span class="legend-item">
        <svg width="18" height="12" aria-hidden="true">
          <rect class="smoke-range" x="1" y="0" width="16" height="12" />
          <rect class="smoke-band" x="1" y="3" width="16" height="6" />
        </svg>
        spread (dark) within the extremes (light)
      </span>
      {LOSS_CLASSES.map((c, i) => (
        <span class="legend-item">
          <svg width="18" height="10" aria-hidden="true">
            <line class={`median loss-${i}`} x1="1" x2="17" y1="5" y2="5" />
          </svg>
          median, {c.label}
        </span>
      ))}
    </div>
  );
}

/** The subject's name on the page: its PoP, or a path test's direction with its ends. */
export function subjectLabel(monitor: MonitorView, subject: string): string {
  if (monitor.kind !== "path-test") return subject;
  const spec = monitor.pathTest as { a?: string; b?: string | { host: string } } | undefined;
  const a = spec?.a ?? "a";
  const b = typeof spec?.b === "string" ? spec.b : (spec?.b?.host ?? "b");
  if (subject === "forward") return `forward, ${a} → ${b}`;
  if (subject === "reverse") return `reverse, ${b} → ${a}`;
  return subject;
}

/** The whole range in one sentence: runs, the median of the intervals' medians, loss, the worst interval. */
export function seriesSummary(series: HistorySeries): string {
  const b = series.buckets;
  if (b.length === 0) return "No runs in this range.";
  const runs = b.reduce((n, x) => n + x.runs, 0);
  const sent = b.reduce((n, x) => n + x.sent, 0);
  const lost = b.reduce((n, x) => n + Math.round((x.sent * x.lossPct) / 100), 0);
  const medians = b.flatMap((x) => (x.median === null ? [] : [x.median])).sort((p, q) => p - q);
  const mid = (medians.length - 1) / 2;
  const median =
    medians.length > 0
      ? ((medians[Math.floor(mid)] as number) + (medians[Math.ceil(mid)] as number)) / 2
      : null;
  const worst = b.reduce((w, x) => (x.lossPct > w.lossPct ? x : w), b[0] as HistoryBucket);
  const parts = [
    `${runs} run${runs === 1 ? "" : "s"} in ${b.length} interval${b.length === 1 ? "" : "s"}`,
    median === null ? "nothing answered" : `median ${ms(median)} ms`,
    `loss ${sent > 0 ? pct(Math.round((lost / sent) * 1000) / 10) : pct(0)} (${lost} of ${sent} probes)`,
  ];
  if (worst.lossPct > 0)
    parts.push(`most loss ${pct(worst.lossPct)} at ${worst.at.slice(0, 16).replace("T", " ")} UTC`);
  return `${parts.join(", ")}.`;
}

export interface HistoryPageProps {
  monitor: MonitorView;
  history: MonitorHistory;
}

/** `/monitors/{id}/history`: the monitor's latency distribution and loss per PoP or direction, no script needed. */
export function HistoryPage(props: HistoryPageProps) {
  const { monitor, history } = props;
  const base = `/monitors/${encodeURIComponent(monitor.id)}/history`;
  const link = (range: HistoryRange, hop: number | null) =>
    `${base}?range=${range}${hop === null ? "" : `&hop=${hop}`}`;
  const hops = [...new Set(history.series.flatMap((s) => s.hops))].sort((a, b) => a - b);
  const rangeWords = HISTORY_RANGES.find((r) => r.range === history.range)?.words ?? history.range;
  const where = history.hop === null ? "at the far end" : `at hop ${history.hop}`;
  const minutes = history.bucketSeconds / 60;
  const interval =
    minutes >= 60
      ? `${round1(minutes / 60)} h`
      : minutes >= 1
        ? `${round1(minutes)} min`
        : `${history.bucketSeconds} s`;
  return (
    <Layout title={`History of ${monitor.name}`} current="/monitors">
      <section class="intro">
        <h1>History of {monitor.name}</h1>
        <p class="muted">
          Operators' pages: <a href="/monitors">monitors</a> · <a href="/mesh">PoP mesh</a>
        </p>
        <p class="lede">
          Latency and loss {where} over {rangeWords}, one column per {interval}. The line is the median of the
          runs' average round-trip times, coloured by the share of probes lost; the dark band is the usual
          spread (25th percentile of average − stdev to 75th of average + stdev), the light one the extremes
          (lowest Best to highest Wrst). Hover a column for its numbers, or open the table under each picture.
        </p>
      </section>
      <nav class="history-nav card" aria-label="Range and hop">
        <p>
          <span class="nav-label">Range:</span>
          {HISTORY_RANGES.map((r) => (
            <a
              href={link(r.range, history.hop)}
              aria-current={r.range === history.range ? "page" : undefined}
            >
              {r.label}
            </a>
          ))}
        </p>
        <p>
          <span class="nav-label">Hop:</span>
          <a href={link(history.range, null)} aria-current={history.hop === null ? "page" : undefined}>
            far end
          </a>
          {hops.map((ttl) => (
            <a href={link(history.range, ttl)} aria-current={history.hop === ttl ? "page" : undefined}>
              {ttl}
            </a>
          ))}
        </p>
      </nav>
      {history.series.length === 0 ? <p class="card muted">No runs in this range.</p> : null}
      {history.series.map((s) => {
        const label = subjectLabel(monitor, s.subject);
        return (
          <section class="card history" data-subject={s.subject}>
            <h2>{label}</h2>
            <p class="history-summary">{seriesSummary(s)}</p>
            <HistoryChart
              history={history}
              series={s}
              title={`Latency and loss of ${label} ${where} over ${rangeWords}`}
            />
            <HistoryLegend />
            {s.buckets.length > 0 ? (
              <details class="history-numbers">
                <summary>The numbers, interval by interval</summary>
                <div class="table-scroll">
                  <table class="mtr">
                    <thead>
                      <tr>
                        <th scope="col">Interval (UTC)</th>
                        <th scope="col">Runs</th>
                        <th scope="col">Loss%</th>
                        <th scope="col">Median</th>
                        <th scope="col">Spread</th>
                        <th scope="col">Extremes</th>
                      </tr>
                    </thead>
                    <tbody>
                      {s.buckets.map((b) => (
                        <tr>
                          <td>{b.at.slice(0, 16).replace("T", " ")}</td>
                          <td class="c-num">{b.runs}</td>
                          <td class={`c-num${b.lossPct > 0 ? " lossy" : ""}`}>{pct(b.lossPct)}</td>
                          <td class="c-num">{b.median === null ? "—" : ms(b.median)}</td>
                          <td class="c-num">{b.band ? `${ms(b.band[0])}–${ms(b.band[1])}` : "—"}</td>
                          <td class="c-num">{b.range ? `${ms(b.range[0])}–${ms(b.range[1])}` : "—"}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </details>
            ) : null}
          </section>
        );
      })}
    </Layout>
  );
}
