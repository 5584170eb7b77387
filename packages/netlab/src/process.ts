import { type ChildProcess, spawn } from "node:child_process";
import type { Readable } from "node:stream";

/** A long-running process inside a lab node. */
export interface LabProcess {
  pid: number;
  stdout: Readable;
  stderr: Readable;
  /** Sends `signal` (SIGTERM), escalates to SIGKILL after 2 s; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

const KILL_AFTER_MS = 2000;

/** Starts `argv` in namespace `ns` (through `ip netns exec`, which execs the program itself). */
export function spawnInNamespace(
  ns: string,
  argv: string[],
  opts: { env?: Record<string, string>; cwd?: string; detached?: boolean } = {},
): LabProcess {
  const child: ChildProcess = spawn("ip", ["netns", "exec", ns, ...argv], {
    env: opts.env ? { ...process.env, ...opts.env } : process.env,
    cwd: opts.cwd,
    stdio: ["ignore", "pipe", "pipe"],
    detached: opts.detached ?? false,
  });
  const proc = wrapChild(child, `${argv.join(" ")} in ${ns}`);
  children.set(proc, child);
  return proc;
}

const children = new WeakMap<LabProcess, ChildProcess>();

/**
 * Lets a process outlive this one (labs left up by `lg lab up`): closes our ends of its pipes
 * and stops waiting for it. It must have been spawned detached, in its own process group.
 */
export function releaseProcess(proc: LabProcess): void {
  const child = children.get(proc);
  proc.stdout.destroy();
  proc.stderr.destroy();
  child?.unref();
}

/** Wraps a child process as a LabProcess (also used for processes run outside namespaces). */
export function wrapChild(child: ChildProcess, what: string): LabProcess {
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    child.once("exit", (code) => resolve(code));
    child.once("error", () => resolve(null));
  });
  if (child.pid === undefined || !child.stdout || !child.stderr) {
    throw new Error(`cannot start ${what}`);
  }
  const stop = async (signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), KILL_AFTER_MS);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  return { pid: child.pid, stdout: child.stdout, stderr: child.stderr, stop, exited };
}

/** Resolves when a process prints `marker` on stdout; rejects if it exits or times out first. */
export function waitForOutput(
  proc: LabProcess,
  marker: string,
  timeoutMs: number,
  what: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = "";
    let errors = "";
    const onErr = (b: Buffer) => {
      errors += b.toString();
    };
    const onData = (b: Buffer) => {
      seen += b.toString();
      if (seen.includes(marker)) {
        cleanup();
        resolve();
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what} did not start within ${timeoutMs} ms: ${errors.trim()}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      proc.stdout.off("data", onData);
      proc.stderr.off("data", onErr);
    };
    proc.stdout.on("data", onData);
    proc.stderr.on("data", onErr);
    proc.exited.then((code) => {
      cleanup();
      reject(new Error(`${what} exited (code ${code}) before it was ready: ${errors.trim()}`));
    });
  });
}
