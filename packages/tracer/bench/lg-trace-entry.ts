/**
 * `lg` with only the trace command registered: the same command code as bin/lg, bundled on its
 * own so the benchmark measures the trace and not the start-up of the coordinator, agent and
 * web UI that the full CLI also loads.
 */
import { Command } from "commander";
import { register } from "../../../apps/cli/src/commands/trace";
import { CliError } from "../../../apps/cli/src/errors";

const program = new Command("lg").version("0.1.0", "-V, --version");
register(program.command("trace"));
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (!(err instanceof CliError)) throw err;
  process.stderr.write(`lg: ${err.message}\n`);
  process.exit(err.exitCode);
}
