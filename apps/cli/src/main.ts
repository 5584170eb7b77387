import { CliError } from "./errors";
import { buildProgram, exitCodeOf } from "./program";

try {
  await (await buildProgram(process.argv.slice(2))).parseAsync(process.argv);
} catch (err) {
  const code = exitCodeOf(err);
  if (code === undefined) throw err;
  // Commander has printed its own message; a CliError is printed here, as one line.
  if (err instanceof CliError) {
    process.stderr.write(`lg: ${err.message}\n`);
    // Ends what a failed command may have left running (a trace's timers, a stream).
    process.exit(code);
  }
  process.exitCode = code;
}
