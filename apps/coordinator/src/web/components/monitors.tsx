/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { AlertView, MonitorSample, MonitorView } from "@lg/protocol";
import { ms, pct } from "../format";
import { Layout } from "./layout";

/** One point per run and subject: the deepest hop of that run (the destination, when it answered). */
export function destinationSeries(samples: MonitorSample[]): Map<string, MonitorSample[]> {
  const deepest = new Map<string, MonitorSample>();
  for (const s of samples) {
    const key = `${s.subject}\u0000${s.traceId}`;
    const seen = deepest.get(key);
    if (!seen || s.ttl > seen.ttl) deepest.set(key, s);
  }
  const bySubject = new Map<string, MonitorSample[]>();
  for (const s of deepest.values()) bySubject.set(s.subject, [...(bySubject.get(s.subject) ?? []), s]);
  for (const list of bySubject.values()) list.sort((a, b) => a.at.localeCompare(b.at));
  return bySubject;
}

const round = (n: number) => Math.round(n * 10) / 10;

/** Links the coordinator recorded (a run's permalink); anything but a path or http(s) URL is dropped. */
const safeHref = (link: string | null) => (link && /^(\/(?!\/)|https?:\/\/)/.test(link) ? link : undefined);

/** Latency at the destination run after run (one line per PoP), with red ticks where it lost probes. */
export function SeriesChart(props: { series: Map<string, MonitorSample[]>; title: string }) {
  const all = [...props.series.values()].flat();
  if (all.length === 0) return <p class="muted">No runs recorded yet.</p>;
  const w = 760;
  const h = 150;
  const left = 56;
  const right = 12;
  const top = 12;
  const bottom = 120;
  const times = all.map((s) => Date.parse(s.at));
  const t0 = Math.min(...times);
  const t1 = Math.max(t0 + 1, ...times);
  const yMax = Math.max(1, ...all.map((s) => s.worst || s.avg)) * 1.1;
  const x = (at: string) => round(left + ((Date.parse(at) - t0) / (t1 - t0)) * (w - left - right));
  const y = (v: number) => round(top + (1 - Math.min(v, yMax) / yMax) * (bottom - top));
  return (
    <svg class="profile series-chart" viewBox={`0 0 ${w} ${h}`} role="img" aria-label={props.title}>
      <title>{props.title}</title>
      {[0, yMax / 2, yMax].map((t) => (
        <g>
          <line class="grid" x1={left} x2={w - right} y1={y(t)} y2={y(t)} />
          <text class="axis-label" x={left - 6} y={y(t) + 4} text-anchor="end">
            {`${t >= 10 ? Math.round(t) : round(t)}${t === yMax ? " ms" : ""}`}
          </text>
        </g>
      ))}
      <text class="axis-label" x={left} y={h - 8}>
        {new Date(t0).toISOString().slice(11, 16)} UTC
      </text>
      <text class="axis-label" x={w - right} y={h - 8} text-anchor="end">
        {new Date(t1).toISOString().slice(11, 16)} UTC
      </text>
      {[...props.series.entries()].map(([subject, points], i) => (
        <g class={`series series-${i % 6}`}>
          <polyline class="avg" points={points.map((p) => `${x(p.at)},${y(p.avg)}`).join(" ")} />
          {points.map((p) => (
            <circle class="point" cx={x(p.at)} cy={y(p.avg)} r="2.5">
              <title>{`${subject} ${p.at.slice(0, 19).replace("T", " ")}: ${ms(p.avg)} ms, ${pct(p.lossPct)} loss at hop ${p.ttl}`}</title>
            </circle>
          ))}
          {points
            .filter((p) => p.lossPct > 0)
            .map((p) => (
              <rect
                class="loss"
                x={x(p.at) - 1.5}
                y={bottom + 2}
                width="3"
                height={Math.max(2, round((p.lossPct / 100) * 14))}
              />
            ))}
        </g>
      ))}
    </svg>
  );
}

function describe(m: MonitorView): string {
  if (m.kind === "trace") {
    const spec = m.measurement as { target?: string; from?: string[] } | undefined;
    return `${spec?.target ?? "?"} from ${spec?.from?.join(", ") ?? "every online PoP"}`;
  }
  const spec = m.pathTest as { a?: string; b?: string | { host: string } } | undefined;
  const b = typeof spec?.b === "string" ? spec.b : (spec?.b?.host ?? "?");
  return `${spec?.a ?? "?"} ⇄ ${b}`;
}

export interface MonitorsPageProps {
  monitors: MonitorView[];
  samples: Map<string, MonitorSample[]>;
  alerts: AlertView[];
}

/** `/monitors`: each monitor with its latency picture, and the alert history. */
export function MonitorsPage(props: MonitorsPageProps) {
  const names = new Map(props.monitors.map((m) => [m.id, m.name]));
  const series = new Map(props.monitors.map((m) => [m.id, destinationSeries(props.samples.get(m.id) ?? [])]));
  const seriesOf = (id: string) => series.get(id) ?? new Map<string, MonitorSample[]>();
  return (
    <Layout title="Monitors" current="/monitors">
      <section class="intro">
        <h1>Monitors</h1>
        <p class="muted">
          Operators' pages: monitors · <a href="/mesh">PoP mesh</a>
        </p>
        <p class="lede">
          Measurements and path tests that run on a schedule. Each picture shows the latency at the far end,
          run after run, one line per PoP; red ticks mark runs that lost probes.
        </p>
      </section>
      {props.monitors.length === 0 ? (
        <p class="card muted">No monitors yet. Create one with POST /api/v1/monitors or `lg monitor`.</p>
      ) : null}
      {props.monitors.map((m) => (
        <section class="card monitor" id={`monitor-${m.id}`} data-monitor={m.id}>
          <header class="pop-head">
            <h2>{m.name}</h2>
            <span class="pop-target">{describe(m)}</span>
            <span class={`status ${m.firing > 0 ? "status-failed" : "status-done"}`}>
              {m.firing > 0 ? `${m.firing} firing` : "ok"}
            </span>
          </header>
          <p class="m-meta">
            {m.kind === "trace" ? "trace" : "path test"} every {m.every} s · {m.runs} runs
            {m.lastRunAt ? ` · last ${m.lastRunAt.slice(0, 19).replace("T", " ")} UTC` : ""}
            {safeHref(m.lastLink) ? (
              <>
                {" · "}
                <a href={safeHref(m.lastLink)}>last run</a>
              </>
            ) : null}
            {" · "}
            <a href={`/monitors/${encodeURIComponent(m.id)}/history`}>history</a>
          </p>
          <SeriesChart series={seriesOf(m.id)} title={`Latency at the far end over time for ${m.name}`} />
          <p class="legend">
            {[...seriesOf(m.id).keys()].map((subject, i) => (
              <span class={`legend-item series-${i % 6}`}>
                <svg width="18" height="10" aria-hidden="true">
                  <line class="avg" x1="1" x2="17" y1="5" y2="5" />
                </svg>
                {subject}
              </span>
            ))}
          </p>
        </section>
      ))}
      <section class="card">
        <h2>Alerts</h2>
        {props.alerts.length === 0 ? (
          <p class="muted">No alert has fired.</p>
        ) : (
          <div class="table-scroll">
            <table class="mtr alerts">
              <thead>
                <tr>
                  <th scope="col">Status</th>
                  <th scope="col">Monitor</th>
                  <th scope="col">Rule</th>
                  <th scope="col">Where</th>
                  <th scope="col">Fired</th>
                  <th scope="col">Resolved</th>
                  <th scope="col">Run</th>
                </tr>
              </thead>
              <tbody>
                {props.alerts.map((a) => (
                  <tr class={a.status === "firing" ? "sev-problem" : ""}>
                    <td>
                      <span class={`status ${a.status === "firing" ? "status-failed" : "status-done"}`}>
                        {a.status}
                      </span>
                    </td>
                    <td>{names.get(a.monitorId) ?? a.monitorId}</td>
                    <td>{a.rule}</td>
                    <td>{a.subject}</td>
                    <td>{a.firedAt.slice(0, 19).replace("T", " ")}</td>
                    <td>{a.resolvedAt ? a.resolvedAt.slice(0, 19).replace("T", " ") : "—"}</td>
                    <td>{safeHref(a.link) ? <a href={safeHref(a.link)}>open</a> : ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </Layout>
  );
}
