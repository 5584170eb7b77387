import pino, { type Logger } from "pino";

export type { Logger };

/** JSON logs, one object per line, on stdout by default (a file descriptor or a stream may be given). */
export function createLogger(level: string, destination: number | pino.DestinationStream = 1): Logger {
  const dest = typeof destination === "number" ? pino.destination(destination) : destination;
  return pino({ level, base: { service: "lg-coordinator" } }, dest);
}
