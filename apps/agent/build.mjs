// Bundles the join agent into ONE file that the coordinator serves to customers behind NAT
// (`node lg-join.mjs <join-url>`): no install step on their machine besides Node 20+ and mtr-packet.
import { build } from "esbuild";

await build({
  entryPoints: ["src/join/main.ts"],
  outfile: "dist/lg-join.mjs",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  minify: true,
  legalComments: "linked",
  // ws loads these native speed-ups only when present; the customer has neither.
  external: ["bufferutil", "utf-8-validate"],
  banner: {
    js: "import { createRequire as __lgCreateRequire } from 'node:module'; const require = __lgCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
});
