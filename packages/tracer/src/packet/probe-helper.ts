import { spawn } from "node:child_process";
import { accessSync, constants, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseFeatureSupport } from "./command";
import { LG_PROBE_INSTALLED_PATH } from "./helper-pool";

/** Where lg-probe is built in a checkout (`make -C packages/tracer/helper`). */
const REPO_BUILD_PATH = join("packages", "tracer", "helper", "build", "lg-probe");

/** Where lg-probe was looked for, and the first executable found (null: none). */
export interface ProbeHelperSearch {
  path: string | null;
  searched: string[];
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The checkout's build path of lg-probe: the nearest folder above `from` holding
 * `packages/tracer`, so it is found from the sources and from a bundle (apps/cli/dist) alike.
 */
export function repoProbeHelperPath(from = dirname(fileURLToPath(import.meta.url))): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "packages", "tracer", "package.json"))) return join(dir, REPO_BUILD_PATH);
    if (dirname(dir) === dir) return null;
  }
}

/**
 * Finds lg-probe: the configured path (the apps pass `LG_PROBE_HELPER`; when it is set it is the
 * only candidate, so a wrong value is reported, not worked around), else
 * /usr/local/libexec/lg/lg-probe (`./scripts/setup` installs it there), else the checkout's build
 * path. A candidate counts when it is an executable file.
 *
 * @example
 * findProbeHelper(config.probeHelper).path ?? "not installed"
 */
export function findProbeHelper(
  configured?: string,
  opts: { executable?: (path: string) => boolean; repoPath?: string | null } = {},
): ProbeHelperSearch {
  const executable = opts.executable ?? isExecutable;
  const candidates =
    configured !== undefined && configured !== ""
      ? [configured]
      : [LG_PROBE_INSTALLED_PATH, opts.repoPath === undefined ? repoProbeHelperPath() : opts.repoPath].filter(
          (p): p is string => p !== null,
        );
  return { path: candidates.find((p) => executable(p)) ?? null, searched: candidates };
}

/** The path of lg-probe (see `findProbeHelper`), or null when it is not installed. */
export function probeHelperPath(configured?: string): string | null {
  return findProbeHelper(configured).path;
}

/**
 * Asks a helper `check-support feature version` and returns its answer when it is lg-probe
 * (`lg-probe-1`), else null: not there, not lg-probe (mtr-packet answers with its own version),
 * or it exits first (e.g. it may not open raw sockets). Waits at most `timeoutMs`.
 */
export function probeHelperVersion(path: string, timeoutMs = 2000): Promise<string | null> {
  return new Promise((resolve) => {
    let settled = false;
    const child = spawn(path, [], { stdio: ["pipe", "pipe", "ignore"] });
    const done = (version: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdin.end();
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      resolve(version);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    child.on("error", () => done(null));
    child.on("exit", () => done(null));
    child.stdin.on("error", () => {});
    createInterface({ input: child.stdout }).on("line", (line) => {
      const answer = parseFeatureSupport(line);
      if (answer?.token === 1) done(answer.support.startsWith("lg-probe") ? answer.support : null);
    });
    child.stdin.write("1 check-support feature version\n");
  });
}
