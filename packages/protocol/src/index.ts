export * from "./messages";
export * from "./subjects";
export * from "./trace";
