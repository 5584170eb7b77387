/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { AgentView, MeasurementView } from "@lg/protocol";
import { Layout } from "./layout";
import { measurementMapLines, RouteMap } from "./route-map";
import { TraceSection } from "./trace-section";

export function optionsSummary(m: MeasurementView): string {
  const o = m.options;
  const parts = [o.protocol.toUpperCase() + (o.port ? ` port ${o.port}` : "")];
  // The family is known once a trace resolved its target, or at once for an address literal.
  const literal = /^[\d.]+$/.test(m.target) || m.target.includes(":") ? m.target : undefined;
  const traced = m.traces.map((t) => t.address).find((a) => a) ?? literal;
  const family = o.ipVersion ?? (traced ? (traced.includes(":") ? 6 : 4) : undefined);
  parts.push(family ? `IPv${family}` : "IPv4 or IPv6");
  parts.push(`${o.count} packets per hop`);
  return parts.join(" · ");
}

export function Exports(props: { id: string }) {
  const base = `/m/${encodeURIComponent(props.id)}`;
  return (
    <nav class="exports" aria-label="Download">
      <span class="muted">Download:</span>
      <a href={`${base}.txt`} download={`lg-${props.id}.txt`}>
        mtr report
      </a>
      <a href={`${base}.json`} download={`lg-${props.id}.json`}>
        JSON
      </a>
      <a href={`${base}.csv`} download={`lg-${props.id}.csv`}>
        CSV
      </a>
      <a href={`${base}.html`} download={`lg-${props.id}.html`}>
        HTML page
      </a>
    </nav>
  );
}

export interface MeasurementBodyProps {
  measurement: MeasurementView;
  agents: Map<string, AgentView>;
  /** The self-contained export: no links back, no live updates. */
  standalone?: boolean;
}

/** The body of `/m/{id}` (also the content of the HTML export). */
export function MeasurementBody(props: MeasurementBodyProps) {
  const m = props.measurement;
  return (
    <div
      class="measurement"
      data-measurement={m.id}
      data-status={m.status}
      data-live-events={
        props.standalone ? undefined : `/api/v1/measurements/${encodeURIComponent(m.id)}/events`
      }
      data-live-fragment={props.standalone ? undefined : `/m/${encodeURIComponent(m.id)}/trace/`}
      data-live-map={props.standalone ? undefined : `/m/${encodeURIComponent(m.id)}/map`}
    >
      <section class="m-head">
        <h1>
          <span class="muted">Route to</span> <span class="m-target">{m.target}</span>
        </h1>
        <p class="m-meta">
          <span>{optionsSummary(m)}</span> ·{" "}
          <time datetime={m.created}>{m.created.replace("T", " ").slice(0, 19)} UTC</time> ·{" "}
          <span class={`status status-${m.status}`} data-role="m-status">
            {m.status}
          </span>
        </p>
        {props.standalone ? null : (
          <div class="m-actions">
            {m.traces.length > 1 ? (
              <a class="button" href={`/compare/${encodeURIComponent(m.id)}`}>
                Compare PoPs side by side
              </a>
            ) : null}
            <Exports id={m.id} />
          </div>
        )}
      </section>
      <MeasurementMap measurement={m} agents={props.agents} />
      {m.traces.map((t) => (
        <TraceSection
          trace={t}
          region={t.agentId ? props.agents.get(t.agentId)?.region : undefined}
          place={t.agentId ? props.agents.get(t.agentId)?.location?.city : undefined}
          followUps
        />
      ))}
    </div>
  );
}

/**
 * The map of a measurement's routes, in the slot the live script refills from `/m/{id}/map` when the
 * measurement is done (hops get their places when each trace is stored).
 */
export function MeasurementMap(props: Pick<MeasurementBodyProps, "measurement" | "agents">) {
  const m = props.measurement;
  return (
    <div class="map-slot" data-role="map-slot">
      <RouteMap lines={measurementMapLines(m.traces, props.agents)} subject={m.target} />
    </div>
  );
}

export function MeasurementPage(props: MeasurementBodyProps) {
  return (
    <Layout title={`Route to ${props.measurement.target}`} live={props.measurement.status !== "done"}>
      <MeasurementBody {...props} />
    </Layout>
  );
}
