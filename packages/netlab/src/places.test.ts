import { describe, expect, it } from "vitest";
import { LAB_WRONG_PLACE, labPlaces, labPlaceTable, labPopLocation } from "./places";
import { describeReferenceLab } from "./reference";

describe("labPlaces", () => {
  const lab = describeReferenceLab("lgtest");
  const places = labPlaces(lab.plan);
  const of = (address: string) => places.find((p) => p.cidr.split("/")[0] === address);

  it("puts the lab in one metro, except the far end of the delay wire", () => {
    expect(of(lab.addr("fra"))?.city).toBe("Frankfurt");
    expect(of(lab.addr("sin"))?.city).toBe("Frankfurt");
    expect(of(lab.addr("dla"))?.city).toBe("Frankfurt");
    expect(of(lab.addr("tdelay"))?.city).toBe("Lisbon");
    expect(of("198.18.81.2")?.city).toBe("Lisbon"); // dlb, behind the wire
    expect(of(lab.addr("tclean", 6))?.city).toBe("Frankfurt");
  });

  it("has exactly one deliberately wrong place: core2's address that fra's traces to tclean see", () => {
    expect(places.filter((p) => p.city === "Sydney").map((p) => p.cidr)).toEqual([
      `${LAB_WRONG_PLACE.address}/32`,
    ]);
    expect(lab.scenarios.clean.expectedHops[2]).toBe(LAB_WRONG_PLACE.address);
    expect(lab.scenarios.clean.expectedNodes[2]).toBe(LAB_WRONG_PLACE.node);
  });

  it("lists every address once as a host prefix, in place-table lines", () => {
    const cidrs = places.map((p) => p.cidr);
    expect(new Set(cidrs).size).toBe(cidrs.length);
    expect(labPlaceTable(lab.plan)).toContain("198.18.3.2/32,-33.8688,151.2093,Sydney,AU");
    expect(labPopLocation("fra")).toEqual({ location: "50.1109,8.6821", city: "Frankfurt" });
  });
});
