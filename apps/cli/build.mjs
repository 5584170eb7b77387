// Bundles the lg command into ESM chunks so `bin/lg` starts fast without a TypeScript loader:
// dist/lg.mjs is the entry (commander and the command table); each command's code, and what it
// imports (the coordinator, the database, the web UI, the lab…), lands in a chunk of its own that
// is loaded only when that command runs. dist/lg.inputs lists every file the bundle was made
// from, for bin/lg to tell whether it is current (see README.md, "Bundle and launcher").
import { cp, readdir, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("../..", import.meta.url));
const here = fileURLToPath(new URL(".", import.meta.url));
const dist = new URL("./dist/", import.meta.url);

// Chunks of earlier builds have other hashes: remove them so dist holds this build only.
for (const name of await readdir(dist).catch(() => [])) {
  if (/^lg(-chunk-.*)?\.mjs(\.map)?$|^lg\.inputs$/.test(name)) await rm(new URL(name, dist));
}

/**
 * zod's namespace export (`z.locales`) drags every language's error messages into each command
 * that validates anything (~370 kB to parse at start); lg uses only English, so its locale index
 * is bundled as English alone.
 */
const englishZodOnly = {
  name: "english-zod-only",
  setup(b) {
    b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({
      contents: 'export { default as en } from "./en.js";',
      loader: "js",
    }));
  },
};

const result = await build({
  absWorkingDir: here,
  entryPoints: { lg: "src/main.ts" },
  outdir: "dist",
  // Chunks sit beside the entry: modules find dist/assets, dist/drizzle and lg-join.mjs next to themselves.
  chunkNames: "lg-chunk-[hash]",
  outExtension: { ".js": ".mjs" },
  bundle: true,
  splitting: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "linked",
  // Stack traces need the mappings only: without the sources a map is a fraction of the size,
  // and node --enable-source-maps keeps every loaded chunk's map in memory.
  sourcesContent: false,
  plugins: [englishZodOnly],
  metafile: true,
  // PGlite loads its WASM files relative to its own module; keep it (and pino's worker files) external.
  external: ["@electric-sql/pglite", "@electric-sql/pglite/*", "pino", "pino-pretty", "thread-stream"],
  banner: {
    js: "import { createRequire as __lgCreateRequire } from 'node:module'; const require = __lgCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
});

// The database migrations are read at run time; the bundle finds them in dist/drizzle.
const drizzle = new URL("../../packages/db/drizzle", import.meta.url);
await cp(drizzle, new URL("./drizzle", dist), { recursive: true });

// The coordinator serves the bundled join agent to customers; it finds it next to the lg bundle.
const joinBundle = new URL("../agent/dist/lg-join.mjs", import.meta.url);
const joinCopied = await cp(joinBundle, new URL("./lg-join.mjs", dist)).then(
  () => true,
  (err) => {
    if (err.code !== "ENOENT") throw err;
    return false;
  },
);

// The web UI reads its stylesheet and script at start; the bundle finds them in dist/assets.
const assets = new URL("../coordinator/src/web/assets", import.meta.url);
await cp(assets, new URL("./assets", dist), { recursive: true });

// The coordinator serves the API reference's page script at /docs (never from a CDN); it finds it
// next to the lg bundle: the standalone build of @scalar/api-reference, a coordinator dependency.
const scalar = createRequire(new URL("../coordinator/package.json", import.meta.url)).resolve(
  "@scalar/api-reference",
);
await cp(join(dirname(scalar), "browser/standalone.js"), new URL("./scalar-api-reference.js", dist));

// Every file the bundle was made from, relative to the repository: the workspace's own sources
// (dependencies count through pnpm-lock.yaml) and the files copied beside it. bin/lg compares
// only these with this file's time; it never walks the tree.
const fromRoot = (path) => relative(root, path);
const inputs = new Set(["pnpm-lock.yaml", "apps/cli/build.mjs"]);
for (const input of Object.keys(result.metafile.inputs)) {
  if (!input.includes("node_modules/")) inputs.add(fromRoot(resolve(here, input)));
}
const copied = async (dir) =>
  (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => fromRoot(`${e.parentPath}/${e.name}`));
for (const f of [...(await copied(drizzle)), ...(await copied(assets))]) inputs.add(f);
if (joinCopied) inputs.add(fromRoot(fileURLToPath(joinBundle)));
// A shell fragment bin/lg sources: one read, no line-by-line parsing in sh.
const listed = [...inputs].sort();
const odd = listed.find((f) => /[^\w./@+-]/.test(f));
if (odd)
  throw new Error(`build: the input path "${odd}" cannot be listed for bin/lg (space or shell character)`);
await writeFile(
  new URL("./lg.inputs", dist),
  `# Written by apps/cli/build.mjs: the files this bundle was made from, for bin/lg.\nlg_inputs='\n${listed.join("\n")}\n'\n`,
);
