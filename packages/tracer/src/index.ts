export {
  ALIAS_TEST_PROBES,
  type AliasVerdict,
  type Prober,
  type TimestampAliasOptions,
  type TimestampAliasResult,
  type TimestampProbing,
  timestampAliasTest,
} from "./alias-test";
export { type Clock, realClock } from "./clock";
export { GRANT_LG_PROBE_RAW_SOCKETS, GRANT_RAW_SOCKETS, TracerError, type TracerErrorCode } from "./errors";
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
export {
  formatFollowUps,
  formatReadings,
  formatReport,
  natWords,
  type ReportOptions,
  recordRouteWords,
  untilSureWords,
} from "./format/report";
export { mdaProbesNeeded } from "./mda";
export { ReverseNames, type ReverseNamesOptions } from "./names";
export {
  type HopQuotes,
  NAT_MIN_REWRITTEN_QUOTES,
  NatTally,
  natReading,
  type QuoteReading,
  readQuote,
} from "./nat";
export { formatProbeCommand, parseFeatureSupport, parseMplsList, parseReplyLine } from "./packet/command";
export {
  HelperPool,
  type HelperPoolOptions,
  type HelperProfile,
  INSTALL_LG_PROBE,
  LG_PROBE_INSTALLED_PATH,
  LG_PROBE_PROFILE,
  LgProbePort,
  MTR_PACKET_PROFILE,
  MtrPacketPort,
  type MtrPacketPortOptions,
} from "./packet/helper-pool";
export { Pacer } from "./packet/pacer";
export {
  findProbeHelper,
  type ProbeHelperSearch,
  probeHelperPath,
  probeHelperVersion,
} from "./packet/probe-helper";
export { lgProbeNeed, RoutingPort, type RoutingPortOptions } from "./packet/routing-port";
export type {
  OptionTimestamp,
  PacketPort,
  ProbeAnswer,
  ProbeFailure,
  ProbeFailureReason,
  ProbeHelperName,
  ProbeOutcome,
  ProbeProtocolName,
  ProbeSpec,
  QuotedProbe,
} from "./packet/types";
export {
  DEFAULT_PINNED_LOCAL_PORT,
  type FlowMode,
  MDA_BASE_FLOW_ID,
  MDA_BASE_FLOW_LABEL,
  MDA_BASE_PORT,
  PINNED_FLOW_ID,
  PINNED_FLOW_LABEL,
  type ProbePlan,
  planProbes,
  probeFor,
} from "./plan";
export {
  RECORD_ROUTE_PROBES,
  RECORD_ROUTE_TTL,
  recordRouteHint,
  recordRouteProbe,
  splitRecordRoute,
} from "./record-route";
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
