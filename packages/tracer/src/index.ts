export { type Clock, realClock } from "./clock";
export { GRANT_RAW_SOCKETS, TracerError, type TracerErrorCode } from "./errors";
export { type FollowUpItem, followUpPlan, followUpTimeoutSec, type TraceEnd } from "./follow-ups";
export { type CsvOptions, csvText, formatCsv } from "./format/csv";
export {
  DEFAULT_ORDER,
  FIELDS,
  type Field,
  JITTER_ORDER,
  LG_REPORT_ORDER,
  parseFieldOrder,
} from "./format/fields";
export { formatMtrJson, formatMtrJsonText, type MtrJsonOptions } from "./format/json";
export { formatLiveTable, type LiveTableOptions } from "./format/live";
export { hostLabel, isoLocal, type NamingOptions } from "./format/naming";
export { ndjsonLine, type StreamEvent, toStreamEvent } from "./format/ndjson";
export { formatFollowUps, formatReport, type ReportOptions, untilSureWords } from "./format/report";
export { mdaProbesNeeded } from "./mda";
export { ReverseNames, type ReverseNamesOptions } from "./names";
export { formatProbeCommand, parseMplsList, parseReplyLine } from "./packet/command";
export { MtrPacketPort, type MtrPacketPortOptions } from "./packet/mtr-packet";
export type {
  PacketPort,
  ProbeAnswer,
  ProbeFailure,
  ProbeFailureReason,
  ProbeOutcome,
  ProbeProtocolName,
  ProbeSpec,
} from "./packet/types";
export { type ProbePlan, planProbes } from "./plan";
export type { StopReason } from "./session";
export { HopStats, MAX_RESPONDERS } from "./stats";
export { resolveTarget } from "./target";
export {
  type DiagnoseHops,
  type TraceEvent,
  type TraceRequest,
  type TraceResult,
  Tracer,
  type TracerOptions,
  type UntilSureDecider,
  untilSureFromDiagnosis,
} from "./tracer";
