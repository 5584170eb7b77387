import { Command } from "commander";
import { commands } from "./commands/index";
import { CliError } from "./errors";

/** Builds the `lg` program; each subcommand lives in its own file under commands/. */
export function buildProgram(): Command {
  const program = new Command("lg")
    .description("lg: a distributed looking-glass — mtr-grade traces from many PoPs, in both directions")
    .version("0.1.0", "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ outputError: (str, write) => write(str) });
  for (const register of commands) register(program);
  return program;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`lg: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    throw err;
  }
}

await main();
