import type { Hop, TraceOptions } from "@lg/protocol";
import type { TraceEvent, TraceResult } from "../tracer";

/** One line of the live event stream (`lg trace --ndjson`). */
export type StreamEvent =
  | { type: "start"; target: string; options: TraceOptions; at: string }
  | { type: "hop"; hop: Hop; at: string }
  | { type: "cycle"; cycle: number; hops: Hop[]; at: string }
  | { type: "done"; result: TraceResult; at: string }
  | { type: "error"; code: string; message: string; at: string };

/** A trace event as a stream event, stamped with the time it was seen. */
export function toStreamEvent(e: TraceEvent, at = new Date()): StreamEvent {
  return e.type === "hop"
    ? { type: "hop", hop: e.hop, at: at.toISOString() }
    : { type: "cycle", cycle: e.cycle, hops: e.hops, at: at.toISOString() };
}

/** One NDJSON line (newline included). */
export function ndjsonLine(e: StreamEvent): string {
  return `${JSON.stringify(e)}\n`;
}
