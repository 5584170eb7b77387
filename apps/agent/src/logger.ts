import pino, { type Logger } from "pino";

/** JSON logs on stdout; each module takes a child logger (`log.child({ module: "jobs" })`). */
export function createLogger(level: string, bindings: Record<string, string> = {}): Logger {
  return pino({ level, base: { ...bindings }, timestamp: pino.stdTimeFunctions.isoTime });
}
export type { Logger };
