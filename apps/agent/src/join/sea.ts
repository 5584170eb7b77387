import { joinMain } from "./cli";

/**
 * Entry of the single executable (`lg-join-linux-x64 <join-url>`): Node.js itself with the join
 * agent inside, for a customer without Node. A single-executable application's main script is
 * CommonJS without top-level await; `process.argv[1]` is the executable again.
 */
joinMain(process.argv[2]).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`lg join: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
