import { spawn, spawnSync } from "node:child_process";
import { constants } from "node:os";

export interface CommandResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Thrown when a lab command fails; carries the command and its stderr. */
export class LabError extends Error {
  override name = "LabError";
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
}

/**
 * Runs a command to completion and never throws on a non-zero exit: the code says how it
 * ended (128 + signal number when killed, e.g. by the timeout).
 */
export function run(argv: string[], opts: RunOptions = {}): Promise<CommandResult> {
  const [cmd, ...args] = argv;
  if (!cmd) return Promise.reject(new LabError("empty command"));
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    const timer =
      opts.timeoutMs !== undefined ? setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs) : undefined;
    child.on("error", (e) => {
      if (timer) clearTimeout(timer);
      reject(new LabError(`cannot run ${cmd}: ${e.message}`, { cause: e }));
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
        code: code ?? 128 + signalNumber(signal),
      });
    });
    child.stdin.on("error", () => {});
    child.stdin.end(opts.input ?? "");
  });
}

/** Like run() but throws LabError with the command's stderr on a non-zero exit. */
export async function runChecked(argv: string[], opts: RunOptions = {}): Promise<string> {
  const result = await run(argv, opts);
  if (result.code !== 0) {
    throw new LabError(
      `${argv.join(" ")} failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`,
    );
  }
  return result.stdout;
}

/** Synchronous variant for teardown paths that must finish inside an exit handler. */
export function runSync(argv: string[], input?: string): CommandResult {
  const [cmd, ...args] = argv;
  const r = spawnSync(cmd ?? "true", args, { input: input ?? "", encoding: "utf8", timeout: 10_000 });
  return { stdout: r.stdout ?? "", stderr: r.stderr ?? "", code: r.status ?? 128 + signalNumber(r.signal) };
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? (constants.signals[signal] ?? 0) : 0;
}
