import { defineConfig } from "vitest/config";

// Suites start nats-server, PostgreSQL or PGlite, and agent processes: give them time, and run
// files one at a time so two suites do not compete for the 2-core machine.
export default defineConfig({
  test: { testTimeout: 60_000, hookTimeout: 120_000, fileParallelism: false },
});
