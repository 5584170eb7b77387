import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";

/**
 * Service processes started by this package. They are killed when this process exits, in two
 * ways: `setpriv --pdeathsig` makes the kernel signal the child when its parent dies (even by
 * SIGKILL), and an exit hook kills any child still running on a normal exit.
 */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

const setprivPath = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => fs.existsSync(p));

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of running) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });
}

export interface ManagedChild {
  child: ChildProcess;
  pid: number;
  /** The last output lines (stdout and stderr), for error messages. */
  tail(): string;
  /** Resolves with the exit code (or null when killed by a signal) once the process has exited. */
  exited: Promise<number | null>;
  /** Sends `signal`, waits up to `graceMs`, then SIGKILL; resolves when the process is gone. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
  onLine(listener: (line: string) => void): void;
}

export interface SpawnOptions {
  /** Signal the kernel sends the child when this process dies. */
  deathSignal?: NodeJS.Signals;
  /** Run as this user and group (needs root), e.g. postgres. */
  user?: { uid: number; gid: number };
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function spawnManaged(command: string, args: string[], opts: SpawnOptions = {}): ManagedChild {
  installExitHook();
  let argv = [command, ...args];
  if (setprivPath) {
    const wrap = ["--pdeathsig", opts.deathSignal ?? "SIGKILL"];
    if (opts.user) wrap.push(`--reuid=${opts.user.uid}`, `--regid=${opts.user.gid}`, "--clear-groups");
    argv = [setprivPath, ...wrap, "--", ...argv];
  } else if (opts.user) {
    throw new Error("setpriv is needed to run a service as another user");
  }
  const [file, ...rest] = argv as [string, ...string[]];
  const child = spawn(file, rest, {
    stdio: ["ignore", "pipe", "pipe"],
    env: opts.env ?? process.env,
    cwd: opts.cwd,
  });
  running.add(child);
  const lines: string[] = [];
  const listeners: ((line: string) => void)[] = [];
  const collect = (stream: NodeJS.ReadableStream | null) => {
    let partial = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      partial += chunk;
      const parts = partial.split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) {
        lines.push(line);
        if (lines.length > 40) lines.shift();
        for (const l of listeners) l(line);
      }
    });
  };
  collect(child.stdout);
  collect(child.stderr);
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      running.delete(child);
      resolve(code);
    });
    child.once("error", () => {
      running.delete(child);
      resolve(-1);
    });
  });
  const isAlive = () => child.exitCode === null && child.signalCode === null && running.has(child);
  return {
    child,
    pid: child.pid ?? -1,
    tail: () => lines.join("\n"),
    exited,
    onLine: (l) => listeners.push(l),
    async stop(signal = "SIGTERM", graceMs = 5_000) {
      if (!isAlive()) {
        await exited;
        return;
      }
      child.kill(signal);
      const timer = setTimeout(() => {
        if (isAlive()) child.kill("SIGKILL");
      }, graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs a command to completion (for initdb and the like); throws with its output when it fails. */
export function runToCompletion(
  command: string,
  args: string[],
  opts: { user?: { uid: number; gid: number }; env?: NodeJS.ProcessEnv } = {},
): string {
  let argv = [command, ...args];
  if (opts.user) {
    if (!setprivPath) throw new Error("setpriv is needed to run a command as another user");
    argv = [
      setprivPath,
      `--reuid=${opts.user.uid}`,
      `--regid=${opts.user.gid}`,
      "--clear-groups",
      "--",
      ...argv,
    ];
  }
  const [file, ...rest] = argv as [string, ...string[]];
  const result = spawnSync(file, rest, { encoding: "utf8", env: opts.env ?? process.env, timeout: 120_000 });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  if (result.error) throw new Error(`${command} failed to run: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} exited with ${result.status}: ${output.trim()}`);
  return output;
}
