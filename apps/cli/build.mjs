// Bundles the lg command into one ESM file so `bin/lg` starts fast without a TypeScript loader.
import { cp } from "node:fs/promises";
import { build } from "esbuild";

await build({
  entryPoints: ["src/main.ts"],
  outfile: "dist/lg.mjs",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "linked",
  // PGlite loads its WASM files relative to its own module; keep it (and pino's worker files) external.
  external: ["@electric-sql/pglite", "@electric-sql/pglite/*", "pino", "pino-pretty", "thread-stream"],
  banner: {
    js: "import { createRequire as __lgCreateRequire } from 'node:module'; const require = __lgCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
});

// The database migrations are read at run time; the bundle finds them in dist/drizzle.
await cp(new URL("../../packages/db/drizzle", import.meta.url), new URL("./dist/drizzle", import.meta.url), {
  recursive: true,
});

// The coordinator serves the bundled join agent to customers; it finds it next to the lg bundle.
await cp(
  new URL("../agent/dist/lg-join.mjs", import.meta.url),
  new URL("./dist/lg-join.mjs", import.meta.url),
).catch((err) => {
  if (err.code !== "ENOENT") throw err;
});

// The web UI reads its stylesheet and script at start; the bundle finds them in dist/assets.
await cp(
  new URL("../coordinator/src/web/assets", import.meta.url),
  new URL("./dist/assets", import.meta.url),
  {
    recursive: true,
  },
);
