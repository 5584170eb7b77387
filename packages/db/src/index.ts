// Query operators from this package's own drizzle-orm, so callers build conditions of the same
// type as the tables (a second drizzle-orm copy in an app, peer-resolved differently, would not fit).
export { and, desc, eq, gt, inArray, isNull, lt, sql } from "drizzle-orm";
export {
  type CreateDbOptions,
  createDb,
  type Database,
  DatabaseError,
  type DbHandle,
  defaultMigrationsFolder,
} from "./client";
export {
  type NewPathTest,
  type NewReverseSession,
  type NewUploadTrace,
  type PathTestWithTraces,
  pathTestQueries,
  type UploadedTraceFill,
} from "./path-tests";
export {
  createRepository,
  type MeasurementWithTraces,
  type NewMeasurement,
  type NewTrace,
  type Repository,
} from "./repository";
export * from "./schema";
