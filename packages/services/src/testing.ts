/**
 * For tests only (`@lg/services/testing`): the database a test runs against. Not part of the
 * public entry.
 */
export { type TestDatabase, testDatabaseUrl } from "./postgres";
