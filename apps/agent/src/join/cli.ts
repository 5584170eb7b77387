import { AGENT_VERSION } from "../version";
import { JoinError, legVerdictLines, runJoin } from "./join";

/**
 * The join agent's command line (`lg-join <join-url>`, `lg-join --version`), shared by the bundled
 * file (`node lg-join.mjs`) and the single executable (`lg-join-linux-x64`, no Node.js needed): it
 * runs one reverse session and prints each leg's verdict. Returns the exit code.
 */
export async function joinMain(arg: string | undefined): Promise<number> {
  if (arg === "--version") {
    process.stdout.write(`lg-join ${AGENT_VERSION} (node ${process.versions.node})\n`);
    return 0;
  }
  if (!arg) {
    process.stderr.write("usage: lg-join <join-url>\n");
    return 2;
  }
  const abort = new AbortController();
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => abort.abort());
  try {
    const { session } = await runJoin(arg, { signal: abort.signal });
    for (const line of legVerdictLines(session)) process.stdout.write(`${line}\n`);
    return session.status === "done" ? 0 : 1;
  } catch (err) {
    if (err instanceof JoinError) {
      process.stderr.write(`lg join: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
