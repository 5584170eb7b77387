import { placeLabel } from "@lg/geo";
import type { Hop, HopGeo, PopLocation } from "@lg/protocol";
import { type GeoProjection, geoCircle, geoGraticule, geoNaturalEarth1, geoPath } from "d3-geo";
import { boxesMeet, type LonLatBox, worldShapes } from "./shapes";

/** One source's hops on the map: a PoP's trace, or one direction of a path test. */
export interface MapLine {
  /** The PoP (or end) the hops were measured from, as the page names it. */
  label: string;
  /** Where that PoP is, when its agent says. */
  origin?: PopLocation | undefined;
  hops: Hop[];
  /** CSS class giving the line its colour (`map-tone-0`…, `map-forward`, `map-reverse`). */
  tone: string;
}

/** A marker: one or more hops (or a PoP) drawn at one point. */
export interface MapMarker {
  x: number;
  y: number;
  tone: string;
  /** What the marker stands for, in words (the hover). */
  title: string;
  /** A short label drawn beside it (PoP names). */
  label?: string;
}

/** Everything the map draws, already projected: SVG path data and points. */
export interface MapDrawing {
  width: number;
  height: number;
  sphere: string;
  graticule: string;
  land: string;
  borders: string;
  routes: { d: string; tone: string; title: string }[];
  discs: { d: string; tone: string; title: string }[];
  pops: MapMarker[];
  hops: MapMarker[];
  /** Claimed places the round-trip times rule out: drawn apart, the reason in the hover. */
  implausible: MapMarker[];
  /** The `aria-label`: "Map of …". */
  label: string;
}

export const MAP_WIDTH = 960;
export const MAP_HEIGHT = 480;
const PAD = 24;
/** km per degree of arc on the Earth (the radius of a disc in degrees for d3's geoCircle). */
const KM_PER_DEGREE = 111.195;
/** The smallest region a map shows, degrees of longitude and latitude (a lab in one city still shows its country). */
const MIN_SPAN = { lon: 24, lat: 12 };

type Point = [number, number];
const at = (p: { lat: number; lon: number }): Point => [p.lon, p.lat];

/** The projection that shows every point with some room around it, or the whole world when they are far apart. */
function projectionFor(points: Point[]): { projection: GeoProjection; wide: boolean; view: LonLatBox } {
  const lons = points.map((p) => p[0]);
  const lats = points.map((p) => p[1]);
  const span = { lon: Math.max(...lons) - Math.min(...lons), lat: Math.max(...lats) - Math.min(...lats) };
  const extent: [[number, number], [number, number]] = [
    [PAD, PAD],
    [MAP_WIDTH - PAD, MAP_HEIGHT - PAD],
  ];
  if (span.lon > 150 || span.lat > 70) {
    return {
      projection: geoNaturalEarth1().fitExtent(extent, { type: "Sphere" }),
      wide: true,
      view: [-180, -90, 180, 90],
    };
  }
  const centre = {
    lon: (Math.max(...lons) + Math.min(...lons)) / 2,
    lat: (Math.max(...lats) + Math.min(...lats)) / 2,
  };
  const half = {
    lon: Math.max(span.lon * 0.65, MIN_SPAN.lon / 2),
    lat: Math.max(span.lat * 0.65, MIN_SPAN.lat / 2),
  };
  const box: Point[] = [];
  for (const dx of [-1, 0, 1])
    for (const dy of [-1, 0, 1])
      box.push([centre.lon + dx * half.lon, Math.max(-85, Math.min(85, centre.lat + dy * half.lat))]);
  const projection = geoNaturalEarth1()
    .rotate([-centre.lon, 0])
    .fitExtent(extent, { type: "MultiPoint", coordinates: box });
  projection.clipExtent([
    [0, 0],
    [MAP_WIDTH, MAP_HEIGHT],
  ]);
  // What the map can show, with room (the extent's aspect widens one axis): shapes outside are not drawn.
  const view: LonLatBox = [
    centre.lon - half.lon * 2,
    Math.max(-90, centre.lat - half.lat * 2),
    centre.lon + half.lon * 2,
    Math.min(90, centre.lat + half.lat * 2),
  ];
  return { projection, wide: span.lon > 60, view };
}

/** Land and borders of the last maps drawn, by projection: pages of one region draw the same background. */
const backgrounds = new Map<string, { land: string; borders: string }>();
const BACKGROUNDS_KEPT = 32;

function backgroundOf(
  projection: GeoProjection,
  wide: boolean,
  view: LonLatBox,
  draw: () => { land: string; borders: string },
): { land: string; borders: string } {
  const key = JSON.stringify([projection.rotate(), projection.scale(), projection.translate(), wide, view]);
  const known = backgrounds.get(key);
  if (known) return known;
  const drawn = draw();
  backgrounds.set(key, drawn);
  if (backgrounds.size > BACKGROUNDS_KEPT) backgrounds.delete(backgrounds.keys().next().value as string);
  return drawn;
}

/** "fra hop 3 198.18.3.2 (0.04 ms)". */
function hopWords(line: MapLine, hop: Hop): string {
  return `${line.label} hop ${hop.ttl} ${hop.host ?? ""}${hop.recv > 0 ? ` (best ${hop.best} ms)` : ""}`;
}

const SOURCE_WORDS: Record<HopGeo["source"], string> = {
  table: "the operator's table",
  database: "the IP database",
};

/**
 * Projects the lines' PoPs and placed hops onto a world map: each line's route through its plausible
 * places in TTL order (great-circle arcs), markers grouped by point, implausible places drawn apart
 * with their reason, and the discs the PoPs' round-trip times allow for those hops (and for each
 * line's last placed hop). Returns undefined when nothing has a place.
 */
export function drawMap(lines: MapLine[], subject: string): MapDrawing | undefined {
  const points: Point[] = [];
  for (const line of lines) {
    if (line.origin) points.push(at(line.origin));
    for (const hop of line.hops) if (hop.geo) points.push(at(hop.geo));
  }
  if (points.length === 0) return undefined;
  const { projection, wide, view } = projectionFor(points);
  const path = geoPath(projection).digits(1);
  // Coastlines and borders: whole pixels, no adaptive resampling (Natural Earth's points are dense
  // enough at these scales), only the shapes near the view, and the last few backgrounds kept.
  const shapeProjection = geoNaturalEarth1()
    .rotate(projection.rotate())
    .scale(projection.scale())
    .translate(projection.translate())
    .precision(0);
  const clip = projection.clipExtent();
  if (clip) shapeProjection.clipExtent(clip);
  const coarse = geoPath(shapeProjection).digits(0);
  const shapes = worldShapes(wide ? "world" : "region");
  const background = backgroundOf(shapeProjection, wide, view, () => ({
    land:
      coarse({
        type: "FeatureCollection",
        features: shapes.land.filter((s) => boxesMeet(s.box, view)).map((s) => s.shape),
      }) ?? "",
    borders:
      coarse({
        type: "MultiLineString",
        coordinates: shapes.borders.filter((s) => boxesMeet(s.box, view)).map((s) => s.shape.coordinates),
      }) ?? "",
  }));
  const project = (p: { lat: number; lon: number }) => {
    const xy = projection(at(p));
    return xy ? { x: Math.round(xy[0] * 10) / 10, y: Math.round(xy[1] * 10) / 10 } : undefined;
  };

  const routes: MapDrawing["routes"] = [];
  const discs: MapDrawing["discs"] = [];
  const seenDiscs = new Set<string>();
  const hopsAt = new Map<string, { x: number; y: number; tone: string; titles: string[] }>();
  const wrongAt = new Map<string, { x: number; y: number; titles: string[] }>();
  const popsAt = new Map<string, MapMarker & { labels: string[]; titles: string[] }>();
  let placed = 0;
  let ruledOut = 0;

  for (const line of lines) {
    const origin = line.origin;
    if (origin) {
      const xy = project(origin);
      if (xy) {
        // PoPs at one point (a lab in one city) share a marker and a label.
        const key = `${xy.x},${xy.y}`;
        const marker = popsAt.get(key) ?? { ...xy, tone: line.tone, title: "", labels: [], titles: [] };
        if (!marker.labels.includes(line.label)) {
          marker.labels.push(line.label);
          marker.titles.push(`${line.label}${origin.city ? ` (${origin.city})` : ""}: the PoP`);
        }
        popsAt.set(key, marker);
      }
    }
    const route: Point[] = origin ? [at(origin)] : [];
    const withPlace = line.hops.filter((h): h is Hop & { geo: HopGeo } => h.geo !== undefined);
    for (const hop of withPlace) {
      placed++;
      const xy = project(hop.geo);
      const where = `${placeLabel(hop.geo)} (${SOURCE_WORDS[hop.geo.source]})`;
      if (!hop.geo.plausible) {
        ruledOut++;
        if (xy) {
          const key = `${xy.x},${xy.y}`;
          const marker = wrongAt.get(key) ?? { ...xy, titles: [] };
          marker.titles.push(`${hopWords(line, hop)}: ${where} is ruled out — ${hop.geo.reason ?? ""}`);
          wrongAt.set(key, marker);
        }
        continue;
      }
      const last = route[route.length - 1];
      if (!last || last[0] !== hop.geo.lon || last[1] !== hop.geo.lat) route.push(at(hop.geo));
      if (xy) {
        const key = `${xy.x},${xy.y},${line.tone}`;
        const marker = hopsAt.get(key) ?? { ...xy, tone: line.tone, titles: [] };
        marker.titles.push(`${hopWords(line, hop)}: ${where}`);
        hopsAt.set(key, marker);
      }
    }
    if (route.length > 1) {
      const d = path({ type: "LineString", coordinates: route });
      if (d)
        routes.push({ d, tone: line.tone, title: `the route from ${line.label} through its placed hops` });
    }
    // The feasible region of every implausible hop, and of the line's last placed hop.
    const lastPlaced = withPlace[withPlace.length - 1];
    for (const hop of withPlace) {
      if (hop.geo.plausible && hop !== lastPlaced) continue;
      for (const disc of hop.geo.feasible ?? []) {
        const key = `${disc.pop}/${disc.radiusKm}`;
        if (seenDiscs.has(key)) continue;
        seenDiscs.add(key);
        const circle = geoCircle()
          .center([disc.lon, disc.lat])
          .radius(Math.max(disc.radiusKm, 0.1) / KM_PER_DEGREE)
          .precision(2)();
        const d = path(circle);
        if (d)
          discs.push({
            d,
            tone: hop.geo.plausible ? line.tone : "map-disc-ruled",
            title: `${hop.host}: within ${Math.round(disc.radiusKm).toLocaleString("en-US")} km of ${disc.pop} (best ${disc.rtt} ms)`,
          });
      }
    }
  }

  const sources = lines.map((l) => l.label).join(", ");
  const label =
    `Map of the route${lines.length > 1 ? "s" : ""} from ${sources} to ${subject}: ` +
    `${placed} hop${placed === 1 ? "" : "s"} placed` +
    (ruledOut > 0 ? `, ${ruledOut} ruled out by round-trip times` : "");
  return {
    width: MAP_WIDTH,
    height: MAP_HEIGHT,
    sphere: path({ type: "Sphere" }) ?? "",
    graticule: coarse(geoGraticule().step([30, 30])()) ?? "",
    land: background.land,
    borders: background.borders,
    routes,
    discs,
    pops: [...popsAt.values()].map((m) => ({
      x: m.x,
      y: m.y,
      tone: m.tone,
      label: m.labels.join(", "),
      title: m.titles.join("\n"),
    })),
    hops: [...hopsAt.values()].map((m) => ({ x: m.x, y: m.y, tone: m.tone, title: m.titles.join("\n") })),
    implausible: [...wrongAt.values()].map((m) => ({
      x: m.x,
      y: m.y,
      tone: "map-ruled",
      title: m.titles.join("\n"),
    })),
    label,
  };
}
