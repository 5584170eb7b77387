export {
  type CreateDbOptions,
  createDb,
  type Database,
  DatabaseError,
  type DbHandle,
  defaultMigrationsFolder,
} from "./client";
export {
  createRepository,
  type MeasurementWithTraces,
  type NewMeasurement,
  type NewTrace,
  type Repository,
} from "./repository";
export {
  type NewPathTest,
  type NewReverseSession,
  type PathTestWithTraces,
  pathTestQueries,
} from "./path-tests";
export * from "./schema";
