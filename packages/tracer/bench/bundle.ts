/**
 * Bundles a bench entry (a worker, or `lg trace` alone) with esbuild into one ESM file that plain
 * node runs, as the CLI ships: the benchmarks measure that, not tsx.
 */
import { build } from "esbuild";

/**
 * Writes the bundle of `entry` to `outfile` and returns `outfile`. `nodePaths`: where to find
 * packages the entry's own package does not depend on (the CLI's commander).
 */
export async function bundleForNode(
  entry: string,
  outfile: string,
  nodePaths: string[] = [],
): Promise<string> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Bundled CommonJS dependencies call require: give the ESM bundle one.
    banner: {
      js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);",
    },
    nodePaths,
    logLevel: "error",
  });
  return outfile;
}
