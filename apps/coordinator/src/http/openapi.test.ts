import { describe, expect, it } from "vitest";
import { openApiDocument } from "./openapi";

type Json = { [key: string]: unknown };
const at = (node: unknown, ...path: string[]): Json => {
  let cur = node as Json;
  for (const key of path) cur = cur?.[key] as Json;
  return cur;
};

describe("the OpenAPI document: follow-ups, --until-sure and the loss interval", () => {
  const schemas = at(openApiDocument(), "components", "schemas");

  it("documents servicePort and adaptive on the measurement request, with their bounds", () => {
    const request = at(schemas, "MeasurementRequest", "properties");
    expect(at(request, "servicePort")).toMatchObject({ type: "integer", minimum: 1, maximum: 65535 });
    expect(at(request, "servicePort").description).toContain("else to 443 and 80");
    expect(at(request, "adaptive").type).toBe("boolean");
    expect(at(request, "adaptive").description).toContain("at most 4 x count");
  });

  it("documents a trace's followUps, adaptive and each hop's lossCi", () => {
    const trace = at(schemas, "Trace", "properties");
    expect(at(trace, "followUps").description).toContain("TCP SYN and UDP probes");
    expect(at(trace, "adaptive", "properties")).toHaveProperty("extraProbes");
    expect(at(trace, "adaptive").description).toContain("--until-sure");
    expect(at(trace, "hops", "items", "properties", "lossCi").description).toContain("Wilson");
  });

  it("says on POST /measurements what the agent confirms and what the budget reserves", () => {
    const post = at(openApiDocument(), "paths", "/api/v1/measurements", "post");
    expect(post.description).toContain("`destination-filters-icmp` with the proof");
    expect(post.description).toContain("reserved for the worst case");
  });
});
