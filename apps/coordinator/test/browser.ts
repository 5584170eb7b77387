import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

/** Screenshots and downloads of the browser suites (git-ignored). */
export const artifactsDir = resolve(import.meta.dirname, "../test-artifacts");

export interface RealBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Debian's Chromium driven by playwright-core: headless, no network of its own (no QUIC, no
 * background fetches, no component updates), a fresh profile per run.
 */
export async function launchChromium(): Promise<RealBrowser> {
  await mkdir(artifactsDir, { recursive: true });
  const profile = await mkdtemp(join(tmpdir(), "lg-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export const shot = (name: string) => join(artifactsDir, `${name}.png`);
