import type { Hop, TraceView } from "@lg/protocol";

/** What a trace is labelled with: its agent, or the customer's upload (a trace with no agent). */
export const traceSource = (t: Pick<TraceView, "agentId">) => t.agentId ?? "customer (uploaded)";

/** Milliseconds as mtr prints them: one decimal. */
export const ms = (value: number) => value.toFixed(1);

/** Loss as mtr prints it: one decimal and a percent sign. */
export const pct = (value: number) => `${value.toFixed(1)}%`;

/** `AS64500` or an empty cell. */
export const asLabel = (hop: { asn?: number | undefined }) => (hop.asn === undefined ? "" : `AS${hop.asn}`);

/** The reply-bearing statistics of a silent hop are meaningless: mtr shows them as 0.0, we blank them. */
export const answered = (hop: Hop) => hop.recv > 0;

/** A hop's reverse-DNS name when it differs from its address. */
export function hopName(hop: Pick<Hop, "host" | "name">): string | undefined {
  return hop.name && hop.name !== hop.host ? hop.name : undefined;
}
