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
  type PathTestWithTraces,
  pathTestQueries,
} from "./path-tests";
export {
  createRepository,
  type MeasurementWithTraces,
  type NewMeasurement,
  type NewTrace,
  type Repository,
} from "./repository";
export * from "./schema";
