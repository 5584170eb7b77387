export { type CompareOptions, compare, routerIdsByTtl } from "./compare";
export { diagnose } from "./diagnose";
export { type AliasTarget, aliasFollowUp, aliasObservation, aliasTargets } from "./follow-ups";
export type { AsnInfo, AsnOf } from "./hop-view";
export { isPrivateAddress } from "./hop-view";
export { type AddressAliasTest, type AliasObservation, identifyRouters } from "./identity";
export { samePointToPointLink } from "./links";
export {
  ANSWERS_WORDS,
  type EvidenceCount,
  evidenceCounts,
  evidenceTally,
  type RouterPlace,
  type RouterRow,
  routerRows,
  segmentRows,
} from "./router-rows";
export * as thresholds from "./thresholds";
export type { DiagnoseOptions } from "./trace-view";
