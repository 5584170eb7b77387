import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { geoBounds } from "d3-geo";
import { feature, mesh } from "topojson-client";
import type { GeometryCollection, Topology } from "topojson-specification";

/** A box in degrees: west, south, east, north (west > east when it crosses the antimeridian). */
export type LonLatBox = [number, number, number, number];

/** A shape with the box it fits in, so a regional map draws only what it shows. */
interface Boxed<T> {
  shape: T;
  box: LonLatBox;
}

/** Land (countries, for a region) and the borders between countries (none for the whole world), as GeoJSON. */
export interface WorldShapes {
  land: Boxed<GeoJSON.Feature>[];
  borders: Boxed<GeoJSON.LineString>[];
}

const cache = new Map<string, WorldShapes>();

function lineBox(coordinates: GeoJSON.Position[]): LonLatBox {
  const lons = coordinates.map((c) => c[0] as number);
  const lats = coordinates.map((c) => c[1] as number);
  return [Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)];
}

/**
 * Natural Earth's shapes from the `world-atlas` package (public-domain data, ISC-licensed TopoJSON),
 * read once: the whole world as land only at 1:110m (~40 kB of SVG path), one region as countries
 * at 1:50m with their borders. Each shape keeps its box, so a regional map projects only the
 * countries and borders near it. Read from the installed package: no network, no tile server.
 */
export function worldShapes(scale: "world" | "region"): WorldShapes {
  const known = cache.get(scale);
  if (known) return known;
  const name = scale === "world" ? "land-110m" : "countries-50m";
  const file = createRequire(import.meta.url).resolve(`world-atlas/${name}.json`);
  const topology = JSON.parse(readFileSync(file, "utf8")) as Topology<{
    land?: GeometryCollection;
    countries?: GeometryCollection;
  }>;
  const { land, countries } = topology.objects;
  const object = scale === "world" ? land : countries;
  const shapes: WorldShapes = { land: [], borders: [] };
  if (object) {
    const collection = feature(topology, object) as GeoJSON.FeatureCollection;
    for (const f of collection.features)
      shapes.land.push({ shape: f, box: geoBounds(f).flat() as LonLatBox });
    if (scale === "region")
      for (const line of mesh(topology, object, (a, b) => a !== b).coordinates)
        shapes.borders.push({ shape: { type: "LineString", coordinates: line }, box: lineBox(line) });
  }
  cache.set(scale, shapes);
  return shapes;
}

/** Whether two boxes overlap; a box across the antimeridian is taken to overlap everything. */
export function boxesMeet(a: LonLatBox, b: LonLatBox): boolean {
  if (a[0] > a[2] || b[0] > b[2]) return true;
  return a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3];
}
