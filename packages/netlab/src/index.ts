export {
  binomialRange,
  checkAsymmetry,
  checkBlackhole,
  checkEcmp,
  checkFilteredIcmp,
  checkForwardLoss,
  checkLatencyStep,
  checkLoop,
  checkLossRates,
  checkNoLoss,
  checkResponders,
  checkThrottle,
  LOSS_CHECK_TAIL,
  type LossSample,
} from "./checks";
export { cleanupStaleLabs, type LabSummary, listLabs, teardownLab } from "./control";
export {
  ECMP_TTL,
  FLOW_HASH_SEED,
  FLOW_LINKS,
  FLOW_NODES,
  FLOW_TCP_PORT,
  type FlowLab,
  flowTopology,
  ICMP_SPLIT_TABLES,
  NAT_AFTER_TTL,
  startFlowLab,
} from "./flow-topology";
export type { BuildOptions, ExecOptions, LabHandle } from "./lab";
export { buildLab, randomPrefix, restoreInput } from "./lab";
export { applyLinkLoss, type DirectedLoss, lossChain } from "./loss";
export type { MtrArgs, MtrHop, MtrRun } from "./mtr";
export { MtrParseError, mtrArgv, parseMtrJson, parseMtrReport } from "./mtr";
export { type LabOrigin, labOrigins } from "./origins";
export { answerAddress, type ModelHop, modelPath, modelTrace } from "./pathmodel";
export {
  LAB_WRONG_PLACE,
  type LabPlace,
  type LabPlacedPrefix,
  labPlaceOf,
  labPlaces,
  labPlaceTable,
  labPopLocation,
} from "./places";
export type { LabPlan, PlannedInterface, PlannedNode } from "./plan";
export { ownerOf, planLab } from "./plan";
export type { LabProcess } from "./process";
export type {
  ExpectedHop,
  FaultDirection,
  PairDirection,
  PairName,
  PairScenario,
  ReferenceLab,
  Scenario,
  ScenarioName,
} from "./reference";
export {
  describeReferenceLab,
  nodeAddress,
  pairScenarios,
  referenceScenarios,
  startReferenceLab,
  THE_LAB_PREFIX,
} from "./reference";
export type { NodeRole, ReferenceNode } from "./reference-topology";
export {
  ANSWER_FROM,
  DEFAULT_LOSSES,
  FORWARD_LOSS,
  LAB_CIDRS,
  REFERENCE_NODES,
  RETURN_LOSS,
  referenceTopology,
} from "./reference-topology";
export { runMtr } from "./run-mtr";
export { LabError } from "./system";
export type {
  AnswerFrom,
  Cidr,
  HostLinkSpec,
  LinkEnd,
  LinkSpec,
  NodeSpec,
  ProcessSpec,
  RouteSpec,
  Topology,
} from "./topology";
export { HOST_NODE, numberedLink, TopologyError, validateTopology } from "./topology";
