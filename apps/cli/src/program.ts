import { Command, CommanderError, Help, type OutputConfiguration } from "commander";
import { COMMANDS } from "./commands/index";
import { CliError } from "./errors";
import { USAGE } from "./options";

const EXIT_STATUS = `
Exit status (every command):
  0  done
  1  failed: the target, the coordinator, the database or this machine; one line on
     standard error says why
  2  usage: a bad flag, argument or environment variable; one line on standard error
`;

/** The subcommand `args` asks for: its first word (the top-level flags take no value), or `help <name>`'s name. */
export function requestedCommand(args: string[]): string | undefined {
  const words = args.filter((a) => !a.startsWith("-"));
  return words[0] === "help" ? words[1] : words[0];
}

/**
 * Builds the `lg` program for `args` (argv without node and the script). Every subcommand is
 * listed from the COMMANDS table; only the one `args` asks for is loaded and registered, so
 * `lg --version` loads no command module and `lg trace` only trace's.
 */
export async function buildProgram(args: string[], output: OutputConfiguration = {}): Promise<Command> {
  const program = new Command("lg")
    .description("lg: a distributed looking-glass — mtr-grade traces from many PoPs, in both directions")
    .version("0.1.0", "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ outputError: (str, write) => write(str), ...output })
    .exitOverride()
    .addHelpText("after", EXIT_STATUS);
  const terms = new Map(COMMANDS.map((c) => [c.name, c.args ? `${c.name} ${c.args}` : c.name]));
  const help = new Help();
  program.configureHelp({ subcommandTerm: (cmd) => terms.get(cmd.name()) ?? help.subcommandTerm(cmd) });
  const wanted = requestedCommand(args);
  for (const entry of COMMANDS) {
    const command = program.command(entry.name).summary(entry.summary).description(entry.summary);
    if (entry.name !== wanted) continue;
    if (entry.service) process.setSourceMapsEnabled(true); // for the chunks loaded from here on
    (await entry.load()).register(command);
  }
  return program;
}

/**
 * The exit code for an error that ended a command: a CliError's own, 0 for help and version asked
 * for, 2 for every other commander error (unknown option or command, missing argument…).
 * Undefined for anything else (a bug: it ends the process with its stack trace).
 */
export function exitCodeOf(err: unknown): number | undefined {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof CommanderError) {
    if (err.code === "commander.helpDisplayed" || err.code === "commander.version") return 0;
    // `lg help` asks for help (0); help shown for a missing subcommand or `lg help bogus` is not.
    return err.code === "commander.help" && err.exitCode === 0 ? 0 : USAGE;
  }
  return undefined;
}
