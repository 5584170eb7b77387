import { describe, expect, it } from "vitest";
import type { PathTestRouteDeps } from "./routes";
import { pathTestRoutes } from "./routes";

type Json = { [key: string]: unknown };
const at = (node: unknown, ...path: string[]): Json => {
  let cur = node as Json;
  for (const key of path) cur = cur?.[key] as Json;
  return cur;
};
/** The object branch of a nullable field (`anyOf: [{...}, {type: "null"}]`). */
const nonNull = (node: Json): Json =>
  ((node.anyOf as Json[] | undefined)?.find((x) => x.type !== "null") ?? node) as Json;

/** The document generated from the path-test routes' own declarations (the handlers never run). */
const document = pathTestRoutes({} as PathTestRouteDeps).getOpenAPI31Document({
  openapi: "3.1.0",
  info: { title: "path tests", version: "1" },
});

describe("the path-test OpenAPI schemas", () => {
  const pathTest = at(document, "components", "schemas", "PathTest");
  const comparison = nonNull(at(pathTest, "properties", "comparison"));
  const trace = at(pathTest, "properties", "forward");

  it("describes each router's identity, addresses, TTLs, answering convention, evidence and confidence", () => {
    const routers = at(comparison, "properties", "routers");
    expect(routers.description).toContain("Every router of both traces");
    const router = at(routers, "items");
    expect(router.description).toContain("`unknown`");
    expect(router.description).toContain("never counted as shared");
    for (const field of ["id", "addresses", "forwardTtl", "reverseTtl", "answers", "evidence", "confidence"])
      expect(at(router, "properties", field).description, field).toBeTruthy();
    expect(at(router, "properties", "answers", "enum")).toEqual([
      "one-address",
      "inbound",
      "route-back",
      "unknown",
    ]);
    const evidence = at(router, "properties", "evidence", "items");
    for (const test of ["address", "name", "link-mate", "alias-trace"])
      expect(evidence.description).toContain(test);
  });

  it("describes the routers per side of a segment, the router of each hop and the evidence of shared pairs", () => {
    const side = at(comparison, "properties", "segments", "items", "properties", "forward");
    expect(at(side, "properties", "routerIds").description).toContain("routers this direction crosses");
    expect(at(side, "properties", "hops", "items", "properties", "routerId").description).toBeTruthy();
    expect(at(trace, "properties", "hops", "items", "properties", "routerId").description).toContain(
      "stable across runs",
    );
    const shared = at(comparison, "properties", "shared", "items");
    expect(shared.description).toContain("`confidence`");
  });

  it("documents the loss reading, undetermined fault direction and each trace's follow-ups", () => {
    const fault = at(comparison, "properties", "faultDirection");
    expect(fault.enum).toContain("undetermined");
    expect(fault.description).toContain("`undetermined`");
    const loss = nonNull(at(comparison, "properties", "loss"));
    expect(at(comparison, "properties", "loss").description).toContain("the other direction's path");
    expect(at(loss, "properties", "reading", "enum")).toEqual(["forward", "reverse", "both", "undetermined"]);
    expect(at(loss, "properties", "stretches", "items").description).toContain("one-way loss");
    expect(at(trace, "properties", "followUps").description).toContain("alias traces");
    expect(at(trace, "properties", "followUps", "items", "properties", "kind", "enum")).toContain(
      "alias-trace",
    );
  });

  it("says in the GET route what the comparison's new fields mean", () => {
    const get = at(document, "paths", "/api/v1/path-tests/{id}", "get");
    for (const word of ["routers", "routerIds", "routerId", "loss", "undetermined", "followUps"])
      expect(get.description).toContain(word);
  });
});
