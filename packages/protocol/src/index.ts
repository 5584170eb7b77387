export * from "./api";
export * from "./comparison";
export * from "./messages";
export * from "./monitors";
export * from "./path-tests";
export * from "./subjects";
export * from "./targets";
export * from "./trace";
