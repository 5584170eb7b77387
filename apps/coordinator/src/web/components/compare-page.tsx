/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { AgentView, Hop, MeasurementView, TraceView } from "@lg/protocol";
import { alignByHop } from "../align";
import { FINDING_TITLES, hopSeverity, VERDICT_WORDS } from "../findings";
import { hopName, ms, pct, traceSource } from "../format";
import { PathProfile } from "./charts";
import { Layout } from "./layout";
import { optionsSummary } from "./measurement-page";
import { measurementMapLines, RouteMap } from "./route-map";
import { HiddenHopMark, hopRange } from "./trace-section";

/** Why a PoP's trace is the one with the problem, in one line (or undefined when it has none). */
export function problemLine(t: TraceView): string | undefined {
  if (t.status === "failed") return t.failure ? `the trace failed: ${t.failure.message}` : "the trace failed";
  const problems = t.diagnosis?.findings.filter((f) => f.severity === "problem") ?? [];
  if (problems.length === 0) return undefined;
  return problems.map((f) => `${FINDING_TITLES[f.code] ?? f.code} (${hopRange(f.hops)})`).join("; ");
}

function Cell(props: { hop: Hop | undefined; trace: TraceView; sharedHosts: Set<string> }) {
  const { hop } = props;
  if (!hop) return <td class="cmp-cell cmp-empty" />;
  const sev = hopSeverity(props.trace.diagnosis, hop.ttl);
  const name = hopName(hop);
  const shared = hop.host !== null && props.sharedHosts.has(hop.host);
  return (
    <td class={`cmp-cell${sev ? ` sev-${sev}` : ""}`}>
      <div class="cmp-host">
        <span class="cmp-ttl">{hop.ttl}.</span>
        {hop.host ? (
          <>
            {name ? <span class="name">{name}</span> : null}
            <span class="addr">{hop.host}</span>
          </>
        ) : hop.hidden ? (
          <HiddenHopMark />
        ) : (
          <span class="silent">???</span>
        )}
        {shared ? (
          <span class="shared-mark" title="other PoPs cross this router too">
            shared
          </span>
        ) : null}
      </div>
      <div class="cmp-stats">
        <span class={hop.lossPct > 0 ? "lossy" : ""}>{pct(hop.lossPct)}</span>
        <span>{hop.recv > 0 ? `${ms(hop.avg)} ms` : "—"}</span>
      </div>
    </td>
  );
}

export function ComparePage(props: { measurement: MeasurementView; agents: Map<string, AgentView> }) {
  const m = props.measurement;
  const traces = m.traces;
  const rows = alignByHop(traces.map((t) => t.hops));
  const seenBy = new Map<string, Set<string>>();
  for (const t of traces)
    for (const h of t.hops) if (h.host) seenBy.set(h.host, (seenBy.get(h.host) ?? new Set()).add(t.id));
  const sharedHosts = new Set([...seenBy].filter(([, ids]) => ids.size > 1).map(([host]) => host));
  const problems = traces.map((t) => ({ t, why: problemLine(t) })).filter((p) => p.why);
  const pending = traces.some((t) => t.status === "queued" || t.status === "running");

  return (
    <Layout title={`Compare PoPs · ${m.target}`}>
      <section class="m-head">
        <h1>
          <span class="muted">Route to</span> <span class="m-target">{m.target}</span>{" "}
          <span class="muted">from {traces.length} PoPs</span>
        </h1>
        <p class="m-meta">
          {optionsSummary(m)} · <a href={`/m/${encodeURIComponent(m.id)}`}>full tables and exports</a>
        </p>
      </section>
      {pending ? (
        <p class="banner banner-pending" role="status">
          Some PoPs are still tracing; <a href={`/compare/${encodeURIComponent(m.id)}`}>reload</a> for the
          final picture.
        </p>
      ) : null}
      {problems.length > 0 ? (
        <div class="banner banner-problem" role="status">
          {problems.map(({ t, why }) => (
            <p>
              <strong>{traceSource(t)}</strong> sees the problem: {why}
            </p>
          ))}
          {problems.length < traces.length ? (
            <p class="muted-on-banner">
              {traces
                .filter((t) => !problems.some((p) => p.t.id === t.id))
                .map((t) => traceSource(t))
                .join(", ")}{" "}
              {traces.length - problems.length === 1 ? "does" : "do"} not: the fault sits on the part of the
              path only {problems.length === 1 ? "this PoP crosses" : "these PoPs cross"}.
            </p>
          ) : null}
        </div>
      ) : pending ? null : (
        <p class="banner banner-clean">Every PoP sees a clean path to {m.target}.</p>
      )}
      <figure class="profile-wrap card">
        <PathProfile
          lines={traces.map((t) => ({ label: traceSource(t), hops: t.hops, problem: !!problemLine(t) }))}
          title={`Average latency and loss per hop from each PoP to ${m.target}`}
        />
        <figcaption class="legend">
          {traces.map((t, i) => (
            <span class={`legend-item series-${i % 6}${problemLine(t) ? " series-problem" : ""}`}>
              <svg width="18" height="10" aria-hidden="true">
                <line class="avg" x1="1" x2="17" y1="5" y2="5" />
              </svg>
              {traceSource(t)}
            </span>
          ))}
        </figcaption>
      </figure>
      <RouteMap lines={measurementMapLines(traces, props.agents)} subject={m.target} />
      <div class="table-scroll card">
        <table class="compare">
          <thead>
            <tr>
              {traces.map((t) => (
                <th scope="col" class={problemLine(t) ? "pop-problem" : "pop-ok"}>
                  <span class="pop-name">{traceSource(t)}</span>{" "}
                  <span class="pop-region">
                    {(t.agentId ? props.agents.get(t.agentId)?.region : undefined) ?? ""}
                  </span>
                  {t.agentId && props.agents.get(t.agentId)?.location?.city ? (
                    <span class="pop-place">{props.agents.get(t.agentId)?.location?.city}</span>
                  ) : null}
                  <span class={`verdict-chip verdict-${t.diagnosis?.verdict ?? t.status}`}>
                    {t.diagnosis ? VERDICT_WORDS[t.diagnosis.verdict] : t.status}
                  </span>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr>
                {traces.map((t, i) => (
                  <Cell hop={row[i]} trace={t} sharedHosts={sharedHosts} />
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Layout>
  );
}
