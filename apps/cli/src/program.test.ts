import { Command, Help } from "commander";
import { describe, expect, it } from "vitest";
import { COMMANDS } from "./commands/index";
import { buildProgram, exitCodeOf, requestedCommand } from "./program";

/** Runs `lg <args>` in this process; resolves with the exit code and what was printed. */
async function lg(...args: string[]): Promise<{ code: number | undefined; out: string; err: string }> {
  let out = "";
  let err = "";
  const program = await buildProgram(args, {
    writeOut: (s) => {
      out += s;
    },
    writeErr: (s) => {
      err += s;
    },
  });
  try {
    await program.parseAsync(args, { from: "user" });
    return { code: 0, out, err };
  } catch (e) {
    const code = exitCodeOf(e);
    if (code === undefined) throw e;
    return { code, out, err };
  }
}

/** The CliError message a command ends with, and its exit code. */
async function failure(...args: string[]): Promise<{ code: number | undefined; message: string }> {
  const program = await buildProgram(args, { writeOut: () => {}, writeErr: () => {} });
  const e = await program.parseAsync(args, { from: "user" }).then(
    () => undefined,
    (x: unknown) => x,
  );
  return { code: exitCodeOf(e), message: (e as Error | undefined)?.message ?? "" };
}

describe("lg's exit codes", () => {
  it("states 0 ok, 1 failure and 2 usage in lg --help, and exits 0 after it", async () => {
    const r = await lg("--help");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /Exit status \(every command\):\n {2}0 {2}done\n {2}1 {2}failed: .*\n.*\n {2}2 {2}usage: /,
    );
  });

  it("exits 0 after --version, lg help and a command's --help", async () => {
    expect(await lg("--version")).toMatchObject({ code: 0, out: "0.1.0\n" });
    expect((await lg("help")).code).toBe(0);
    const help = await lg("trace", "--help");
    expect(help.code).toBe(0);
    expect(help.out).toContain("Usage: lg trace [options] <target>");
  });

  it.each([
    [["trace"], "error: missing required argument 'target'"],
    [["trace", "--bogus", "198.18.1.1"], "error: unknown option '--bogus'"],
    [["bogus"], "error: unknown command 'bogus'"],
    [["measure", "-c"], "error: option '-c, --count <n>' argument missing"],
    [[], "Usage: lg [options] [command]"],
    [["keys"], "Usage: lg keys [options] [command]"],
    [["help", "bogus"], "Usage: lg [options] [command]"],
  ])("exits 2 on the usage error lg %j", async (args, message) => {
    const r = await lg(...args);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
  });

  it.each([
    [["trace", "-c", "", "198.18.1.1"], '-c/--report-cycles: "" is not a whole number'],
    [["trace", "-i", " ", "198.18.1.1"], '-i/--interval: " " is not a number'],
    [["measure", "-c", "", "198.18.1.1"], '-c/--count: "" is not a whole number'],
    [["measure", "-i", "x", "198.18.1.1"], '-i/--interval: "x" is not a number'],
    [["path", "-c", "2.5", "fra", "sin"], '-c/--count: "2.5" is not a whole number'],
    [["monitor", "create", "-e", "", "198.18.1.1"], '-e/--every: "" is not a whole number'],
    [["monitor", "create", "-e", "60", "--loss", "-1", "198.18.1.1"], '--loss: "-1" is less than 0'],
    [["monitor", "alerts", "--limit", ""], '-l/--limit: "" is not a whole number'],
    [["trace", "-T", "-u", "198.18.1.1"], "-T/--tcp and -u/--udp exclude each other: pick one probe type"],
    [["measure", "-4", "-6", "198.18.1.1"], "give -4 or -6, not both"],
  ])("exits 2 with one line naming the flag on lg %j", async (args, message) => {
    const r = await failure(...args);
    expect(r).toEqual({ code: 2, message });
  });
});

describe("lg's command table", () => {
  it("loads only the command asked for (or the one help is asked about)", async () => {
    const loaded = (p: Command) => p.commands.filter((c) => c.options.length > 0).map((c) => c.name());
    expect(loaded(await buildProgram(["--version"]))).toEqual([]);
    expect(loaded(await buildProgram(["-n", "trace", "198.18.1.1"]))).toEqual(["trace"]);
    expect(requestedCommand(["help", "measure"])).toBe("measure");
  });

  it.each(COMMANDS.map((c) => [c.name, c] as const))(
    "lists %s with the arguments its module declares",
    async (_name, entry) => {
      const command = new Command("lg").command(entry.name);
      (await entry.load()).register(command);
      expect(new Help().subcommandTerm(command)).toBe(
        entry.args ? `${entry.name} ${entry.args}` : entry.name,
      );
    },
  );
});
