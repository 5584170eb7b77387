import { type LabRecord, teardownRecord } from "./registry";

/**
 * Labs of this process, torn down synchronously when the process exits or is told to stop,
 * so an interrupted test run or a Ctrl-C leaves nothing behind.
 */
const active = new Map<string, LabRecord>();
let installed = false;

export function trackLab(record: LabRecord): void {
  active.set(record.prefix, record);
}

export function untrackLab(record: LabRecord): void {
  active.delete(record.prefix);
}

function teardownAll(): void {
  for (const record of [...active.values()]) {
    try {
      teardownRecord(record);
    } catch {
      // Best effort: the next start cleans whatever is left (the record names it).
    }
    active.delete(record.prefix);
  }
}

export function installExitHooks(): void {
  if (installed) return;
  installed = true;
  process.on("exit", teardownAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = (): void => {
      // A program with its own handler shuts down its way (and calls lab.down(), or exits
      // and meets the exit hook); otherwise tear down and keep the signal's default effect.
      if (process.listenerCount(signal) > 1) return;
      teardownAll();
      process.off(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}
