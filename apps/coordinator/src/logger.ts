import pino, { type Logger } from "pino";

export type { Logger };

/** JSON logs on stdout (or the given destination), one object per line. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { service: "lg-coordinator" } }, destination ?? pino.destination(1));
}
