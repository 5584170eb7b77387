export { samePointToPointLink } from "./align";
export { type CompareOptions, compare } from "./compare";
export { diagnose } from "./diagnose";
export type { AsnInfo, AsnOf } from "./hop-view";
export { isPrivateAddress } from "./hop-view";
export * as thresholds from "./thresholds";
export type { DiagnoseOptions } from "./trace-view";
