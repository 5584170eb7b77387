export {
  checkAsymmetry,
  checkBlackhole,
  checkEcmp,
  checkFilteredIcmp,
  checkForwardLoss,
  checkLatencyStep,
  checkLoop,
  checkNoLoss,
  checkResponders,
  checkThrottle,
} from "./checks";
export { cleanupStaleLabs, type LabSummary, listLabs, teardownLab } from "./control";
export type { BuildOptions, ExecOptions, LabHandle } from "./lab";
export { buildLab, randomPrefix, restoreInput } from "./lab";
export type { MtrArgs, MtrHop, MtrRun } from "./mtr";
export { MtrParseError, mtrArgv, parseMtrJson, parseMtrReport } from "./mtr";
export { type LabOrigin, labOrigins } from "./origins";
export { type ModelHop, modelTrace } from "./pathmodel";
export type { LabPlan, PlannedInterface, PlannedNode } from "./plan";
export { ownerOf, planLab } from "./plan";
export type { LabProcess } from "./process";
export type { ExpectedHop, ReferenceLab, Scenario, ScenarioName } from "./reference";
export {
  describeReferenceLab,
  nodeAddress,
  referenceScenarios,
  startReferenceLab,
  THE_LAB_PREFIX,
} from "./reference";
export type { NodeRole, ReferenceNode } from "./reference-topology";
export { LAB_CIDRS, REFERENCE_NODES, referenceTopology } from "./reference-topology";
export { runMtr } from "./run-mtr";
export { LabError } from "./system";
export type {
  Cidr,
  HostLinkSpec,
  LinkEnd,
  LinkSpec,
  NodeSpec,
  ProcessSpec,
  RouteSpec,
  Topology,
} from "./topology";
export { HOST_NODE, TopologyError, validateTopology } from "./topology";
