import { afterAll, beforeAll } from "vitest";
import { type LabStack, startLabStack } from "./lab-stack";

/**
 * The lab stack around one describe block: `startLabStack(opts)` in its beforeAll, `stop()` in its
 * afterAll. The object returned is filled in by that beforeAll, so read its fields inside tests.
 */
export function labStackForSuite(opts: Parameters<typeof startLabStack>[0] = {}): LabStack {
  const started = {} as Partial<LabStack>;
  beforeAll(async () => {
    Object.assign(started, await startLabStack(opts));
  }, 240_000);
  afterAll(async () => {
    await started.stop?.();
  }, 60_000);
  return started as LabStack;
}
