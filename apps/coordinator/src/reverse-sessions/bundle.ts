import fs from "node:fs";
import { fileURLToPath } from "node:url";

/** File name of the bundled join agent (built by `pnpm build` in apps/agent, copied beside the lg bundle). */
export const JOIN_BUNDLE = "lg-join.mjs";

/**
 * Finds the bundled join agent: the given path, beside this module when it runs inside the lg
 * bundle (apps/cli/dist), or the agent package's build output when it runs from the sources.
 */
export function findJoinBundle(explicit?: string): string | undefined {
  const candidates = [
    explicit,
    fileURLToPath(new URL(`./${JOIN_BUNDLE}`, import.meta.url)),
    fileURLToPath(new URL(`../../../agent/dist/${JOIN_BUNDLE}`, import.meta.url)),
  ].filter((p): p is string => !!p);
  return candidates.find((p) => fs.existsSync(p));
}

/** File name of the join agent as a single executable for linux-x64 (no Node.js needed). */
export const JOIN_BINARY = "lg-join-linux-x64";

/**
 * Finds the join agent's single executable (built by `pnpm build` in apps/agent on linux-x64): the
 * given path, beside this module, or the agent package's build output seen from the sources or from
 * the lg bundle (apps/cli/dist).
 */
export function findJoinBinary(explicit?: string): string | undefined {
  const candidates = [
    explicit,
    fileURLToPath(new URL(`./${JOIN_BINARY}`, import.meta.url)),
    fileURLToPath(new URL(`../../../agent/dist/${JOIN_BINARY}`, import.meta.url)),
    fileURLToPath(new URL(`../../agent/dist/${JOIN_BINARY}`, import.meta.url)),
  ].filter((p): p is string => !!p);
  return candidates.find((p) => fs.existsSync(p));
}
