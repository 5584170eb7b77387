import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import * as schema from "./schema";

/** A drizzle database over either driver; queries are written once against this type. */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface DbHandle {
  db: Database;
  /** `postgres` when DATABASE_URL was given, `pglite` for the embedded database. */
  kind: "postgres" | "pglite";
  close(): Promise<void>;
}

export interface CreateDbOptions {
  /** PostgreSQL connection URL; without it an embedded PGlite database is used. */
  databaseUrl?: string | undefined;
  /** Data folder; PGlite keeps its files in `<dataDir>/pg`. */
  dataDir: string;
  /** Connections in the postgres.js pool. */
  maxConnections?: number;
  /** Override the migrations folder (defaults to the package's `drizzle/`). */
  migrationsFolder?: string;
}

export class DatabaseError extends Error {
  override name = "DatabaseError";
}

/**
 * Finds the migrations folder: beside the package sources (`../drizzle`) or, in the bundled
 * CLI, copied next to the bundle (`./drizzle`).
 */
export function defaultMigrationsFolder(): string {
  const candidates = [new URL("../drizzle", import.meta.url), new URL("./drizzle", import.meta.url)].map(
    (u) => fileURLToPath(u),
  );
  const found = candidates.find((dir) => existsSync(join(dir, "meta", "_journal.json")));
  if (!found) throw new DatabaseError(`migrations folder not found (looked in ${candidates.join(", ")})`);
  return found;
}

/**
 * Opens the database and applies pending migrations.
 *
 * @example
 *   const { db, close } = await createDb({ databaseUrl: process.env.DATABASE_URL, dataDir: ".lg" });
 */
export async function createDb(opts: CreateDbOptions): Promise<DbHandle> {
  const migrationsFolder = opts.migrationsFolder ?? defaultMigrationsFolder();
  if (opts.databaseUrl) {
    const sql = postgres(opts.databaseUrl, {
      max: opts.maxConnections ?? 10,
      onnotice: () => {},
      connect_timeout: 10,
      // postgres.js waits between reconnect attempts, growing to 20 s, and queries queue behind
      // that wait: with the server down, requests would hang instead of answering 503, and
      // after it returns they would stay slow. Cap the wait at one second.
      backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1),
    });
    const db = drizzlePostgres(sql, { schema });
    try {
      await migratePostgres(db, { migrationsFolder });
    } catch (err) {
      await sql.end({ timeout: 1 });
      throw new DatabaseError(`cannot migrate the database: ${(err as Error).message}`, { cause: err });
    }
    return { db: db as unknown as Database, kind: "postgres", close: () => sql.end({ timeout: 5 }) };
  }
  const dir = join(opts.dataDir, "pg");
  await mkdir(dir, { recursive: true });
  const client = await PGlite.create(dir);
  const db = drizzlePglite(client, { schema });
  try {
    await migratePglite(db, { migrationsFolder });
  } catch (err) {
    await client.close();
    throw new DatabaseError(`cannot migrate the embedded database: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return { db: db as unknown as Database, kind: "pglite", close: () => client.close() };
}
