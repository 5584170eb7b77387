import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { feature, mesh } from "topojson-client";
import type { GeometryCollection, Topology } from "topojson-specification";

/** Land (countries, for a region) and the borders between countries (none for the whole world), as GeoJSON. */
export interface WorldShapes {
  land: GeoJSON.FeatureCollection | GeoJSON.Feature;
  borders: GeoJSON.MultiLineString | undefined;
}

const cache = new Map<string, WorldShapes>();

/**
 * Natural Earth's shapes from the `world-atlas` package (public-domain data, ISC-licensed TopoJSON),
 * read once: the whole world as land only at 1:110m (~40 kB of SVG path), one region as countries
 * at 1:50m with their borders (clipped to the map). Read from the installed package, so the map
 * needs no network and no tile server.
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
  const shapes: WorldShapes =
    scale === "world" && land
      ? { land: feature(topology, land), borders: undefined }
      : countries
        ? { land: feature(topology, countries), borders: mesh(topology, countries, (a, b) => a !== b) }
        : { land: { type: "FeatureCollection", features: [] }, borders: undefined };
  cache.set(scale, shapes);
  return shapes;
}
