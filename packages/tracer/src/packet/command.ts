import { isIP } from "node:net";
import type { MplsLabel } from "@lg/protocol";
import type { ProbeFailureReason, ProbeOutcome, ProbeSpec } from "./types";

/**
 * The `send-probe` request line for mtr-packet (without the newline).
 * Example: `7 send-probe ip-4 198.18.0.1 ttl 3 protocol udp port 33434 local-port 40000 timeout 2`.
 */
export function formatProbeCommand(token: number, probe: ProbeSpec): string {
  const parts = [String(token), "send-probe", probe.family === 6 ? "ip-6" : "ip-4", probe.address];
  parts.push("ttl", String(probe.ttl), "protocol", probe.protocol);
  if (probe.port !== undefined) parts.push("port", String(probe.port));
  if (probe.localPort !== undefined) parts.push("local-port", String(probe.localPort));
  if (probe.size !== undefined) parts.push("size", String(probe.size));
  if (probe.tos !== undefined && probe.tos !== 0) parts.push("tos", String(probe.tos));
  if (probe.sourceAddress !== undefined)
    parts.push(probe.family === 6 ? "local-ip-6" : "local-ip-4", probe.sourceAddress);
  parts.push("timeout", String(Math.max(1, Math.ceil(probe.timeoutSec))));
  return parts.join(" ");
}

const FAILURES = new Set<string>([
  "probes-exhausted",
  "invalid-argument",
  "permission-denied",
  "network-down",
  "address-in-use",
  "address-not-available",
  "unexpected-error",
  "unknown-command",
]);

/**
 * Parses mtr-packet's comma list of MPLS values (four per label: label, traffic class,
 * bottom-of-stack, ttl). Returns null when the list is malformed.
 */
export function parseMplsList(list: string): MplsLabel[] | null {
  const values = list.split(",").map((v) => Number(v));
  if (values.length === 0 || values.length % 4 !== 0 || values.some((v) => !Number.isInteger(v))) return null;
  const labels: MplsLabel[] = [];
  for (let i = 0; i < values.length; i += 4) {
    labels.push({
      label: values[i] as number,
      tc: values[i + 1] as number,
      bottom: values[i + 2] !== 0,
      ttl: values[i + 3] as number,
    });
  }
  return labels;
}

export interface ParsedReply {
  token: number;
  outcome: ProbeOutcome;
}

/**
 * Parses one reply line of mtr-packet, e.g. `12 ttl-expired ip-4 198.18.1.1 round-trip-time 523`
 * or `3 invalid-argument reason ip-version-not-supported`. Returns null for a line that is not a
 * probe outcome (feature-support answers, garbage), so a caller can ignore it without crashing.
 */
export function parseReplyLine(line: string): ParsedReply | null {
  const words = line.trim().split(/\s+/);
  if (words.length < 2) return null;
  const token = Number(words[0]);
  if (!Number.isInteger(token)) return null;
  const command = words[1] as string;
  const args = new Map<string, string>();
  for (let i = 2; i + 1 < words.length; i += 2) args.set(words[i] as string, words[i + 1] as string);

  if (command === "no-reply") return { token, outcome: { kind: "no-reply" } };
  if (command === "reply" || command === "ttl-expired" || command === "no-route") {
    const v4 = args.get("ip-4");
    const v6 = args.get("ip-6");
    const address = v4 ?? v6;
    const rtt = Number(args.get("round-trip-time"));
    // A responder that is not an address of its stated family is garbage, not a router.
    const family = v4 !== undefined ? 4 : 6;
    if (address === undefined || isIP(address) !== family || !Number.isFinite(rtt) || rtt < 0) {
      // A no-route without a responder is a send-side error: no router answered.
      if (command === "no-route")
        return { token, outcome: { kind: "failure", reason: "network-down", detail: "no route to host" } };
      return null;
    }
    const mplsText = args.get("mpls");
    const mpls = mplsText === undefined ? [] : (parseMplsList(mplsText) ?? []);
    return { token, outcome: { kind: command, family, address, rttUs: rtt, mpls } };
  }
  if (FAILURES.has(command)) {
    const detail = args.get("reason");
    const outcome: ProbeOutcome = { kind: "failure", reason: command as ProbeFailureReason };
    if (detail !== undefined) outcome.detail = detail;
    return { token, outcome };
  }
  return null;
}
