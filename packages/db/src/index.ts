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
export * from "./schema";
