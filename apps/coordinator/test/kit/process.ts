import { type ChildProcess, spawn } from "node:child_process";
import { join, resolve } from "node:path";

export const repoRoot = resolve(import.meta.dirname, "../../../..");

export interface ProcessOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to its end, collecting its output: in the repository unless `cwd` says otherwise,
 * with `input` on its stdin (nothing to read when absent). `onChild` gets the child once started
 * (to signal it mid-run).
 */
export function runToEnd(
  argv: string[],
  opts: {
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    input?: string;
    onChild?: (child: ChildProcess) => void;
  } = {},
): Promise<ProcessOutput> {
  return new Promise((resolve) => {
    const child = spawn(argv[0] as string, argv.slice(1), {
      cwd: opts.cwd ?? repoRoot,
      env: opts.env ?? process.env,
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d) => {
      stdout += d;
    });
    child.stderr?.on("data", (d) => {
      stderr += d;
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    opts.onChild?.(child);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** `lg <args>` from the sources (node with the tsx loader), run to its end. */
export const runLg = (args: string[], opts: Parameters<typeof runToEnd>[1] = {}) =>
  runToEnd([process.execPath, "--import", "tsx", join(repoRoot, "apps/cli/src/main.ts"), ...args], opts);

/** `lg join <joinUrl>`, as a customer runs it, to its end (warnings and errors only on stderr). */
export const lgJoin = (joinUrl: string, onChild?: (child: ChildProcess) => void) =>
  runLg(["join", joinUrl], { env: { ...process.env, LOG_LEVEL: "warn" }, onChild });
