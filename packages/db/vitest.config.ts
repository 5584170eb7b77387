import { defineConfig } from "vitest/config";

// Creating a PGlite database takes seconds and a PostgreSQL cluster longer.
export default defineConfig({ test: { testTimeout: 30_000, hookTimeout: 120_000 } });
