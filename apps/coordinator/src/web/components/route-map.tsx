/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { placeLabel } from "@lg/geo";
import type { Hop } from "@lg/protocol";
import { drawMap, type MapLine } from "../map/geometry";

export type { MapLine };

/** A legend entry: the line's colour and what it stands for. */
function Key(props: { tone: string; text: string }) {
  return (
    <span class={`legend-item ${props.tone}`}>
      <svg width="18" height="10" aria-hidden="true">
        <line class="map-key" x1="1" x2="17" y1="5" y2="5" />
      </svg>
      {props.text}
    </span>
  );
}

/** The places table under the map: every placed hop, where, who says so, and the check. */
function PlacesTable(props: { lines: MapLine[] }) {
  const rows = props.lines.flatMap((line) =>
    line.hops
      .filter((h): h is Hop & { geo: NonNullable<Hop["geo"]> } => h.geo !== undefined)
      .map((hop) => ({ line, hop })),
  );
  return (
    <details class="map-places">
      <summary>
        Places of the hops ({rows.length}; {rows.filter((r) => !r.hop.geo.plausible).length} ruled out)
      </summary>
      <div class="table-scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">From</th>
              <th scope="col" class="c-num">
                Hop
              </th>
              <th scope="col">Address</th>
              <th scope="col">Place</th>
              <th scope="col">Says who</th>
              <th scope="col">Round-trip times</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(({ line, hop }) => (
              <tr class={hop.geo.plausible ? "" : "place-ruled"}>
                <td>{line.label}</td>
                <td class="c-num">{hop.ttl}</td>
                <td class="addr">{hop.host}</td>
                <td class="place">{placeLabel(hop.geo)}</td>
                <td>{hop.geo.source === "table" ? "operator's table" : "IP database"}</td>
                <td>
                  {hop.geo.plausible
                    ? hop.geo.feasible?.length
                      ? `possible (within ${hop.geo.feasible.map((d) => `${Math.round(d.radiusKm).toLocaleString("en-US")} km of ${d.pop}`).join(", ")})`
                      : "not checked (no PoP place or no bound)"
                    : `ruled out: ${hop.geo.reason ?? ""}`}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

export interface RouteMapProps {
  lines: MapLine[];
  /** What the routes lead to, for the label ("198.18.9.2", "sin"). */
  subject: string;
  /** Legend text per line (default: the line's label). */
  keys?: string[];
}

/**
 * The world map of the routes: drawn on the server as SVG from Natural Earth shapes (no tiles, no
 * script), each line's placed hops in order, places the round-trip times rule out drawn apart as ×
 * with the reason on hover, and the feasible discs. Nothing when no PoP or hop has a place.
 */
export function RouteMap(props: RouteMapProps) {
  const m = drawMap(props.lines, props.subject);
  if (!m) return null;
  return (
    <figure class="card map-wrap" data-role="map">
      <svg
        class="route-map"
        role="img"
        aria-label={m.label}
        viewBox={`0 0 ${m.width} ${m.height}`}
        preserveAspectRatio="xMidYMid meet"
      >
        <title>{m.label}</title>
        <path class="map-sphere" d={m.sphere} />
        <path class="map-graticule" d={m.graticule} />
        <path class="map-land" d={m.land} />
        {m.borders ? <path class="map-borders" d={m.borders} /> : null}
        {m.discs.map((d) => (
          <path class={`map-disc ${d.tone}`} d={d.d}>
            <title>{d.title}</title>
          </path>
        ))}
        {m.routes.map((r) => (
          <path class={`map-route ${r.tone}`} d={r.d}>
            <title>{r.title}</title>
          </path>
        ))}
        {m.hops.map((h) => (
          <circle class={`map-hop ${h.tone}`} cx={h.x} cy={h.y} r="4.5">
            <title>{h.title}</title>
          </circle>
        ))}
        {m.implausible.map((h) => (
          <g class="map-ruled" data-role="implausible">
            <title>{h.title}</title>
            <circle class="map-ruled-ring" cx={h.x} cy={h.y} r="9" />
            <path
              class="map-ruled-cross"
              d={`M${h.x - 5} ${h.y - 5}L${h.x + 5} ${h.y + 5}M${h.x - 5} ${h.y + 5}L${h.x + 5} ${h.y - 5}`}
            />
          </g>
        ))}
        {m.pops.map((p) => (
          <g class={`map-pop ${p.tone}`}>
            <title>{p.title}</title>
            <rect x={p.x - 5} y={p.y - 5} width="10" height="10" />
            <text x={p.x + 8} y={p.y - 7}>
              {p.label}
            </text>
          </g>
        ))}
      </svg>
      <figcaption class="legend">
        {props.lines.map((l, i) => (
          <Key tone={l.tone} text={props.keys?.[i] ?? l.label} />
        ))}
        <span class="legend-item map-legend-ruled">
          × a place the round-trip times rule out (hover for why)
        </span>
        <span class="muted">
          Places: the operator's table, else DB-IP; a best round-trip time of r ms allows at most r/2 × 200 km
          from the PoP (rings).
        </span>
      </figcaption>
      <PlacesTable lines={props.lines} />
    </figure>
  );
}

/** Anything that names the agent that traced it (an uploaded trace names none). */
interface TracedBy {
  agentId?: string | null | undefined;
  hops: Hop[];
}

/** A measurement's traces as map lines, each PoP in its series colour, from where its agent says it is. */
export function measurementMapLines(
  traces: TracedBy[],
  agents: Map<string, { location?: MapLine["origin"] }>,
): MapLine[] {
  return traces.map((t, i) => ({
    label: t.agentId ?? "upload",
    origin: t.agentId ? agents.get(t.agentId)?.location : undefined,
    hops: t.hops,
    tone: `map-tone-${i % 6}`,
  }));
}

/** A path test's two directions as map lines: the way there and the way back in their colours. */
export function pathTestMapLines(
  ends: { a: string; b: string },
  forward: TracedBy,
  reverse: TracedBy | null,
  agents: Map<string, { location?: MapLine["origin"] }>,
): MapLine[] {
  const originOf = (t: TracedBy) => (t.agentId ? agents.get(t.agentId)?.location : undefined);
  const lines: MapLine[] = [
    { label: ends.a, origin: originOf(forward), hops: forward.hops, tone: "map-forward" },
  ];
  if (reverse)
    lines.push({ label: ends.b, origin: originOf(reverse), hops: reverse.hops, tone: "map-reverse" });
  return lines;
}
