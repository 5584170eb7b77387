import { describe, expect, it } from "vitest";
import { freeFlowsHelper, LG_PROBE_FOR_ALL_ABOVE_TRACES } from "./engine";

describe("which helper sends an agent's free flows", () => {
  it("mtr-packet at the default 200 traces at once, up to the threshold", () => {
    expect(freeFlowsHelper(200)).toBe("mtr-packet");
    expect(freeFlowsHelper(LG_PROBE_FOR_ALL_ABOVE_TRACES)).toBe("mtr-packet");
  });
  it("lg-probe for an agent allowed more traces at once than one mtr-packet process holds well", () => {
    expect(freeFlowsHelper(LG_PROBE_FOR_ALL_ABOVE_TRACES + 1)).toBe("lg-probe");
    expect(freeFlowsHelper(2000)).toBe("lg-probe");
  });
});
