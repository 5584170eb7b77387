import { JoinError, legVerdictLines, runJoin } from "@lg/agent";
import type { Command } from "commander";
import { loadCliConfig } from "../config";
import { CliError } from "../errors";

/** `lg join <url>`: the join agent for one reverse session (its credential comes from the session). */
export function register(command: Command): void {
  command
    .argument("<url>", "the session's join URL (…/api/v1/reverse-sessions/<id>/join?token=…)")
    .action(async (url: string) => {
      const { logLevel } = loadCliConfig();
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        const { session } = await runJoin(url, {
          signal: abort.signal,
          logLevel,
        });
        for (const line of legVerdictLines(session)) process.stdout.write(`${line}\n`);
        if (session.status !== "done")
          throw new CliError(`the session ${session.status} before its legs finished`);
      } catch (err) {
        if (err instanceof JoinError) throw new CliError(err.message);
        throw err;
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });
}
