// Bundles the join agent into ONE file that the coordinator serves to customers behind NAT
// (`node lg-join.mjs <join-url>`): no install step on their machine besides Node 20+ and mtr-packet.
// On linux-x64 it also builds the join agent as a single executable (Node's single-executable
// applications: this node with the bundle injected), for customers without Node:
// dist/lg-join-linux-x64. LG_BUILD_SEA=0 skips it.
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { build } from "esbuild";

const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  minify: true,
  legalComments: "linked",
  // ws loads these native speed-ups only when present; the customer has neither.
  external: ["bufferutil", "utf-8-validate"],
  logLevel: "warning",
};

await build({
  ...common,
  entryPoints: ["src/join/main.ts"],
  outfile: "dist/lg-join.mjs",
  format: "esm",
  banner: {
    js: "import { createRequire as __lgCreateRequire } from 'node:module'; const require = __lgCreateRequire(import.meta.url);",
  },
});

/** bufferutil and utf-8-validate, which ws tries and does without, as modules that throw. */
const optionalNative = {
  name: "optional-native",
  setup(b) {
    b.onResolve({ filter: /^(bufferutil|utf-8-validate)$/ }, (args) => ({
      path: args.path,
      namespace: "absent",
    }));
    b.onLoad({ filter: /.*/, namespace: "absent" }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not in the single executable`)});`,
    }));
  },
};

/** The single executable: a CommonJS bundle, its preparation blob, injected into a copy of this node. */
async function buildExecutable() {
  const out = "dist/lg-join-linux-x64";
  const work = "dist/sea";
  mkdirSync(work, { recursive: true });
  await build({
    ...common,
    entryPoints: ["src/join/sea.ts"],
    outfile: `${work}/lg-join.cjs`,
    format: "cjs",
    // The executable's require() loads built-in modules only: ws's optional speed-ups become
    // modules that throw (ws then does without), and import.meta.url is the executable's own path.
    external: [],
    plugins: [optionalNative],
    define: { "import.meta.url": "__lgModuleUrl" },
    banner: { js: 'const __lgModuleUrl = require("node:url").pathToFileURL(process.execPath).href;' },
  });
  writeFileSync(
    `${work}/sea-config.json`,
    JSON.stringify({
      main: `${work}/lg-join.cjs`,
      output: `${work}/lg-join.blob`,
      disableExperimentalSEAWarning: true,
    }),
  );
  execFileSync(process.execPath, ["--experimental-sea-config", `${work}/sea-config.json`], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  rmSync(out, { force: true });
  copyFileSync(process.execPath, out);
  chmodSync(out, 0o755);
  const postject = createRequire(import.meta.url).resolve("postject/dist/cli.js");
  execFileSync(
    process.execPath,
    [
      postject,
      out,
      "NODE_SEA_BLOB",
      `${work}/lg-join.blob`,
      "--sentinel-fuse",
      "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2",
    ],
    // postject warns about ELF note sections it does not need; only a failure is shown.
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  rmSync(work, { recursive: true, force: true });
}

if (process.env.LG_BUILD_SEA === "0") {
  // Asked not to.
} else if (process.platform !== "linux" || process.arch !== "x64") {
  console.warn(`join agent: no single executable on ${process.platform}-${process.arch} (linux-x64 only)`);
} else {
  await buildExecutable();
}
