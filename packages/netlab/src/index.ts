export { cleanupStaleLabs, listLabs, teardownLab } from "./control";
export type { BuildOptions, ExecOptions, LabHandle } from "./lab";
export { buildLab, randomPrefix, restoreInput } from "./lab";
export { type ModelHop, modelTrace } from "./pathmodel";
export type { LabPlan, PlannedInterface, PlannedNode } from "./plan";
export { planLab } from "./plan";
export type { LabProcess } from "./process";
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
