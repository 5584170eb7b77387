// Adds up the reports every package's vitest run wrote and prints one closing line. Fails when a
// test failed, when a suite failed outside its tests (a beforeAll/afterAll hook, a file that does
// not load), on an unhandled error, or when a package with tests left no report at all (vitest
// crashed or never ran): a package that did not report must not look green.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

const root = process.argv[2] ?? process.cwd();
const TEST_FILE = /\.test\.(ts|tsx|mts|js|mjs)$/;
const NOT_SOURCES = new Set(["node_modules", "dist", ".test-results", ".turbo", "test-artifacts"]);

/** Whether a package has test files (so it must have left a report). */
function hasTests(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!NOT_SOURCES.has(entry.name) && hasTests(join(dir, entry.name))) return true;
    } else if (TEST_FILE.test(entry.name)) return true;
  }
  return false;
}

const readJson = (file) => (existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : undefined);

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
let suitesFailed = 0;
let unhandled = 0;
let unreported = 0;
for (const group of ["apps", "packages"]) {
  for (const name of readdirSync(join(root, group))) {
    const dir = join(root, group, name);
    const pkg = `${group}/${name}`;
    const report = readJson(join(dir, ".test-results", "vitest.json"));
    const errors = readJson(join(dir, ".test-results", "vitest-errors.json"));
    const listed = failures.length;
    if (!report) {
      if (hasTests(dir)) {
        unreported++;
        failures.push(`${pkg}: no test report (its vitest crashed or did not run; see its log)`);
      }
      continue;
    }
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += report.numPendingTests + report.numTodoTests;
    for (const suite of report.testResults)
      for (const t of suite.assertionResults)
        if (t.status === "failed") failures.push(`${pkg}: ${t.fullName}`);

    // Suites that failed outside their tests: the errors reporter names each; without its file,
    // a failed file with no failed test in vitest's own report.
    const outside = new Set();
    for (const s of errors?.suites ?? []) {
      suitesFailed++;
      outside.add(s.file);
      const where = s.suite ? `${relative(root, s.file)} > ${s.suite}` : relative(root, s.file);
      failures.push(`${pkg}: ${where}: failed outside its tests: ${s.message}`);
    }
    for (const suite of report.testResults) {
      if (suite.status !== "failed" || outside.has(suite.name)) continue;
      if (suite.assertionResults.some((t) => t.status === "failed")) continue;
      suitesFailed++;
      const message = suite.message || "a beforeAll/afterAll hook failed (see its log)";
      failures.push(`${pkg}: ${relative(root, suite.name)}: failed outside its tests: ${message}`);
    }
    for (const message of errors?.unhandled ?? []) {
      unhandled++;
      failures.push(`${pkg}: unhandled error: ${message}`);
    }
    if (report.success === false && failures.length === listed) {
      suitesFailed++;
      failures.push(`${pkg}: vitest reported a failure (see its log)`);
    }
  }
}
for (const f of failures) console.log(`FAILED ${f}`);
const extra = [
  suitesFailed ? `${suitesFailed} suites failed outside their tests` : "",
  unhandled ? `${unhandled} unhandled errors` : "",
  unreported ? `${unreported} packages without a report` : "",
].filter(Boolean);
console.log(
  `${passed} passed, ${failed} failed, ${skipped} skipped${extra.length ? `; ${extra.join(", ")}` : ""}`,
);
process.exit(failures.length > 0 ? 1 : 0);
