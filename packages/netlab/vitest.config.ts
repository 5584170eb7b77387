import { defineConfig } from "vitest/config";

// Lab test files run one at a time: each builds namespaces and runs mtr on a 2-core machine,
// and one file's build cleans up labs whose owner died (which another file may be observing).
export default defineConfig({
  test: { fileParallelism: false },
});
