import { isIP } from "node:net";
import type { MplsLabel } from "@lg/protocol";
import type {
  OptionTimestamp,
  ProbeAnswer,
  ProbeFailureReason,
  ProbeOutcome,
  ProbeSpec,
  QuotedProbe,
} from "./types";

/**
 * The `send-probe` request line for mtr-packet or lg-probe (without the newline). The flow and
 * option fields (`flow-id`, `flow-label`, `record-route`, `timestamp`) are written only when the
 * probe has them; only lg-probe knows them.
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
  if (probe.flowId !== undefined) parts.push("flow-id", String(probe.flowId));
  if (probe.flowLabel !== undefined) parts.push("flow-label", String(probe.flowLabel));
  if (probe.recordRoute) parts.push("record-route", "on");
  if (probe.timestamps !== undefined && probe.timestamps.length > 0)
    parts.push("timestamp", probe.timestamps.join(","));
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
 * Parses one reply line of mtr-packet or lg-probe, e.g. `12 ttl-expired ip-4 198.18.1.1
 * round-trip-time 523` or `3 invalid-argument reason ip-version-not-supported`. lg-probe's extra
 * answer fields (`quoted-*`, `sent-checksum`, `record-route`, `timestamp`, `options refused`)
 * are read into the answer; a malformed one is left out, and fields nobody knows are skipped two
 * words at a time. Returns null for a line that is not a probe outcome (feature-support answers,
 * garbage), so a caller can ignore it without crashing.
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
    const answer: ProbeAnswer = { kind: command, family, address, rttUs: rtt, mpls };
    readExtraFields(args, answer);
    return { token, outcome: answer };
  }
  if (FAILURES.has(command)) {
    const detail = args.get("reason");
    const outcome: ProbeOutcome = { kind: "failure", reason: command as ProbeFailureReason };
    if (detail !== undefined) outcome.detail = detail;
    return { token, outcome };
  }
  return null;
}

/** A whole number in [0, max], or undefined. */
function whole(text: string | undefined, max: number): number | undefined {
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n <= max ? n : undefined;
}

function addressList(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const list = text.split(",");
  return list.every((a) => isIP(a) !== 0) ? list : undefined;
}

/** `A1=T1,A2=-`: each prespecified address and its timestamp, `-` when it did not stamp. */
function timestampList(text: string | undefined): OptionTimestamp[] | undefined {
  if (text === undefined) return undefined;
  const stamps: OptionTimestamp[] = [];
  for (const item of text.split(",")) {
    const [address, ms, extra] = item.split("=");
    if (address === undefined || isIP(address) !== 4 || extra !== undefined) return undefined;
    if (ms === "-") stamps.push({ address, ms: null });
    else {
      const value = whole(ms, 0xffffffff);
      if (value === undefined) return undefined;
      stamps.push({ address, ms: value });
    }
  }
  return stamps;
}

/** lg-probe's answer fields beyond mtr-packet's (helper/PROTOCOL.md, "Answers"). */
function readExtraFields(args: Map<string, string>, answer: ProbeAnswer): void {
  const quoted: QuotedProbe = {};
  const ttl = whole(args.get("quoted-ttl"), 255);
  if (ttl !== undefined) quoted.ttl = ttl;
  const source = args.get("quoted-source");
  if (source !== undefined && isIP(source) !== 0) quoted.source = source;
  const ports = args.get("quoted-ports")?.split(",");
  if (ports?.length === 2) {
    const [s, d] = ports.map((p) => whole(p, 65535));
    if (s !== undefined && d !== undefined) quoted.ports = [s, d];
  }
  const checksum = whole(args.get("quoted-checksum"), 65535);
  if (checksum !== undefined) quoted.checksum = checksum;
  const sentChecksum = whole(args.get("sent-checksum"), 65535);
  if (sentChecksum !== undefined) quoted.sentChecksum = sentChecksum;
  const flowLabel = whole(args.get("quoted-flow-label"), 0xfffff);
  if (flowLabel !== undefined) quoted.flowLabel = flowLabel;
  if (Object.keys(quoted).length > 0) answer.quoted = quoted;
  const recordRoute = addressList(args.get("record-route"));
  if (recordRoute !== undefined) answer.recordRoute = recordRoute;
  const timestamps = timestampList(args.get("timestamp"));
  if (timestamps !== undefined) answer.timestamps = timestamps;
  if (args.get("options") === "refused") answer.optionsRefused = true;
}

/**
 * Parses a `check-support` answer, e.g. `1 feature-support support lg-probe-1`: the token and
 * what the helper said (`ok`, `no`, or a version). Null for any other line.
 */
export function parseFeatureSupport(line: string): { token: number; support: string } | null {
  const words = line.trim().split(/\s+/);
  if (words.length !== 4 || words[1] !== "feature-support" || words[2] !== "support") return null;
  const token = Number(words[0]);
  if (!Number.isInteger(token)) return null;
  return { token, support: words[3] as string };
}
