import { JoinError, runJoin } from "./join";

/**
 * Entry of the bundled join agent (`node lg-join.mjs <join-url>`), the one file a customer
 * downloads: it runs one reverse session and prints each leg's verdict.
 */
async function main(): Promise<number> {
  const joinUrl = process.argv[2];
  if (!joinUrl) {
    process.stderr.write("usage: node lg-join.mjs <join-url>\n");
    return 2;
  }
  const abort = new AbortController();
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => abort.abort());
  try {
    const { session } = await runJoin(joinUrl, { signal: abort.signal });
    for (const leg of session.legs) {
      const b = typeof leg.b === "string" ? leg.b : leg.b.host;
      const verdict = leg.comparison
        ? `${leg.comparison.verdict}; ${leg.comparison.summary}`
        : `forward ${leg.forward.diagnosis?.verdict ?? leg.forward.status}`;
      process.stdout.write(`${leg.a} ⇄ ${b}: ${verdict}\n`);
    }
    return session.status === "done" ? 0 : 1;
  } catch (err) {
    if (err instanceof JoinError) {
      process.stderr.write(`lg join: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

process.exitCode = await main();
