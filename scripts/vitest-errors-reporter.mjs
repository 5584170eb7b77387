// A vitest reporter for scripts/test-summary.mjs: writes .test-results/vitest-errors.json with the
// errors vitest's JSON report leaves out or hides in a file-level `message`: failed
// beforeAll/afterAll hooks (of a file or of a describe block, whose tests then show as skipped or
// passed), files that failed to load, and unhandled errors (which fail the run but belong to no
// test). Each package's `test` script names it next to `--reporter=json`.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

const OUTPUT = ".test-results/vitest-errors.json";

const messageOf = (e) => String(e?.message ?? e ?? "unknown error").split("\n")[0];

export default class ErrorsReporter {
  onInit(vitest) {
    this.root = vitest.config.root;
  }

  onTestRunEnd(testModules, unhandledErrors) {
    const suites = [];
    for (const module of testModules) {
      for (const e of module.errors())
        suites.push({ file: module.moduleId, suite: null, message: messageOf(e) });
      for (const suite of module.children.allSuites()) {
        for (const e of suite.errors()) {
          suites.push({ file: module.moduleId, suite: suite.fullName, message: messageOf(e) });
        }
      }
    }
    const report = {
      suites,
      unhandled: unhandledErrors.map((e) => messageOf(e)),
    };
    const file = join(this.root, OUTPUT);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  }
}
