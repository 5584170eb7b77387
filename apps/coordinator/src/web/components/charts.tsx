/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Hop } from "@lg/protocol";
import { ms, pct } from "../format";

/**
 * Inline SVG pictures. Colours and strokes come from the stylesheet through classes (no style
 * attributes, so the page's Content-Security-Policy needs no 'unsafe-inline').
 */

const round = (n: number) => Math.round(n * 10) / 10;

/** One hop's spread on the page's common scale: a bar from best to worst, a tick at avg, a dot at last. */
export function RangeBar(props: { hop: Hop; scaleMax: number }) {
  const { hop } = props;
  const w = 120;
  const h = 18;
  if (hop.recv === 0) {
    return (
      <svg class="range" viewBox={`0 0 ${w} ${h}`} width={w} height={h} role="img" aria-label="no replies">
        <line class="range-none" x1="2" x2={w - 2} y1={h / 2} y2={h / 2} />
      </svg>
    );
  }
  const x = (v: number) => round(2 + (Math.min(v, props.scaleMax) / (props.scaleMax || 1)) * (w - 4));
  const label = `best ${ms(hop.best)} ms, average ${ms(hop.avg)} ms, worst ${ms(hop.worst)} ms`;
  return (
    <svg class="range" viewBox={`0 0 ${w} ${h}`} width={w} height={h} role="img" aria-label={label}>
      <title>{label}</title>
      <line class="range-axis" x1="2" x2={w - 2} y1={h / 2} y2={h / 2} />
      <rect
        class="range-band"
        x={x(hop.best)}
        y="4"
        width={Math.max(1.5, x(hop.worst) - x(hop.best))}
        height="10"
        rx="2"
      />
      <line class="range-avg" x1={x(hop.avg)} x2={x(hop.avg)} y1="2" y2={h - 2} />
      <circle class="range-last" cx={x(hop.last)} cy={h / 2} r="2.2" />
    </svg>
  );
}

/** The largest worst-case RTT over all hops (the common scale of the range bars), rounded up. */
export function scaleOf(hopLists: Hop[][]): number {
  const worst = Math.max(1, ...hopLists.flat().map((h) => (h.recv > 0 ? h.worst : 0)));
  const step = worst > 100 ? 50 : worst > 20 ? 10 : worst > 5 ? 5 : 1;
  return Math.ceil(worst / step) * step;
}

export interface ProfileLine {
  label: string;
  hops: Hop[];
  /** Draw this line as the one with the problem. */
  problem?: boolean;
}

/**
 * The path at a glance: latency (average, with the best–worst band) hop by hop, and the loss of
 * each hop as a bar underneath. Several lines (one per PoP) share the axes on the compare page.
 */
export function PathProfile(props: { lines: ProfileLine[]; title: string }) {
  const w = 760;
  const h = 220;
  const left = 56;
  const right = 12;
  const top = 16;
  const lossTop = 168;
  const bottom = 196;
  const maxTtl = Math.max(1, ...props.lines.flatMap((l) => l.hops.map((hop) => hop.ttl)));
  const yMax = scaleOf(props.lines.map((l) => l.hops));
  const x = (ttl: number) => round(left + ((ttl - 0.5) / maxTtl) * (w - left - right));
  const y = (v: number) => round(top + (1 - Math.min(v, yMax) / yMax) * (lossTop - 18 - top));
  const barW = Math.max(
    3,
    Math.min(18, (((w - left - right) / maxTtl) * 0.5) / Math.max(1, props.lines.length)),
  );
  const ticks = [0, yMax / 2, yMax];
  return (
    <svg
      class="profile"
      viewBox={`0 0 ${w} ${h}`}
      role="img"
      aria-label={props.title}
      preserveAspectRatio="xMidYMid meet"
    >
      <title>{props.title}</title>
      {ticks.map((t) => (
        <g>
          <line class="grid" x1={left} x2={w - right} y1={y(t)} y2={y(t)} />
          <text class="axis-label" x={left - 6} y={y(t) + 4} text-anchor="end">
            {`${t >= 10 ? Math.round(t) : round(t)}${t === yMax ? " ms" : ""}`}
          </text>
        </g>
      ))}
      <line class="grid" x1={left} x2={w - right} y1={bottom} y2={bottom} />
      <text class="axis-label" x={left - 6} y={lossTop + 12} text-anchor="end">
        loss
      </text>
      {Array.from({ length: maxTtl }, (_, i) => (
        <text class="axis-label" x={x(i + 1)} y={h - 8} text-anchor="middle">
          {i + 1}
        </text>
      ))}
      {props.lines.map((line, li) => {
        const alive = line.hops.filter((hop) => hop.recv > 0);
        const cls = `series series-${li % 6}${line.problem ? " series-problem" : ""}`;
        const band =
          alive.length > 0
            ? [
                ...alive.map((hop) => `${x(hop.ttl)},${y(hop.worst)}`),
                ...[...alive].reverse().map((hop) => `${x(hop.ttl)},${y(hop.best)}`),
              ].join(" ")
            : "";
        return (
          <g class={cls}>
            {props.lines.length === 1 && band ? <polygon class="band" points={band} /> : null}
            <polyline class="avg" points={alive.map((hop) => `${x(hop.ttl)},${y(hop.avg)}`).join(" ")} />
            {alive.map((hop) => (
              <circle class="point" cx={x(hop.ttl)} cy={y(hop.avg)} r="3">
                <title>{`${line.label} hop ${hop.ttl}: ${ms(hop.avg)} ms average, ${pct(hop.lossPct)} loss`}</title>
              </circle>
            ))}
            {line.hops
              .filter((hop) => hop.lossPct > 0)
              .map((hop) => {
                const bh = Math.max(1, round((hop.lossPct / 100) * (bottom - lossTop)));
                return (
                  <rect
                    class="loss"
                    x={round(x(hop.ttl) - (barW * props.lines.length) / 2 + li * barW)}
                    y={bottom - bh}
                    width={round(barW)}
                    height={bh}
                  >
                    <title>{`${line.label} hop ${hop.ttl}: ${pct(hop.lossPct)} loss`}</title>
                  </rect>
                );
              })}
          </g>
        );
      })}
    </svg>
  );
}
