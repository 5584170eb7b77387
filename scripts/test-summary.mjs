// Adds up the JSON reports every package's vitest run wrote and prints one closing line.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = process.argv[2] ?? process.cwd();
let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
for (const group of ["apps", "packages"]) {
  for (const name of readdirSync(join(root, group))) {
    const file = join(root, group, name, ".test-results", "vitest.json");
    if (!existsSync(file)) continue;
    const report = JSON.parse(readFileSync(file, "utf8"));
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += report.numPendingTests + report.numTodoTests;
    for (const suite of report.testResults)
      for (const t of suite.assertionResults)
        if (t.status === "failed") failures.push(`${group}/${name}: ${t.fullName}`);
  }
}
for (const f of failures) console.log(`FAILED ${f}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
