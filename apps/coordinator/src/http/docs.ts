import fs from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Scalar } from "@scalar/hono-api-reference";
import { Hono } from "hono";
import { ApiError } from "../errors";
import type { AppEnv } from "./kit";

/** File name of the API reference's page script beside the lg bundle (copied by apps/cli/build.mjs). */
export const DOCS_SCRIPT = "scalar-api-reference.js";

/** Where the page asks for its script: this coordinator, never a CDN. */
export const DOCS_SCRIPT_PATH = "/docs/scalar-api-reference.js";

/**
 * Finds the standalone bundle of `@scalar/api-reference`: the given path, beside this module when
 * it runs inside the lg bundle (apps/cli/dist), or the installed package when it runs from the
 * sources.
 */
export function findDocsScript(explicit?: string): string | undefined {
  const installed = () => {
    try {
      const entry = createRequire(import.meta.url).resolve("@scalar/api-reference");
      return join(dirname(entry), "browser/standalone.js");
    } catch {
      return undefined;
    }
  };
  const candidates = [explicit, fileURLToPath(new URL(`./${DOCS_SCRIPT}`, import.meta.url)), installed()];
  return candidates.find((p): p is string => !!p && fs.existsSync(p));
}

/**
 * `GET /docs`, the interactive API reference (Scalar) over /openapi.json, and its page script,
 * served by the coordinator itself so the reference works offline. Fonts, telemetry and the AI
 * agent are off: the page talks to this coordinator only.
 */
export function docsRoutes(opts: { script?: string | undefined } = {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  let script: Promise<Buffer> | undefined;

  app.get(
    "/docs",
    Scalar({
      url: "/openapi.json",
      pageTitle: "lg coordinator API",
      cdn: DOCS_SCRIPT_PATH,
      withDefaultFonts: false,
      telemetry: false,
      agent: { disabled: true },
      showDeveloperTools: "never",
    }),
  );

  app.get(DOCS_SCRIPT_PATH, async (c) => {
    const path = findDocsScript(opts.script);
    if (!path) {
      throw new ApiError(
        503,
        "docs_script_missing",
        "the API reference's script is not installed on this coordinator (run `pnpm install`)",
      );
    }
    script ??= readFile(path);
    return c.body(new Uint8Array(await script), 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "public, max-age=3600",
    });
  });

  return app;
}
