import { describe, expect, it } from "vitest";
import { labOrigins } from "./origins";
import { describeReferenceLab } from "./reference";

describe("labOrigins", () => {
  const lab = describeReferenceLab("lgtest");
  const origins = labOrigins(lab.plan);
  const of = (address: string) => origins.find((o) => o.cidr.split("/")[0] === address);

  it("puts each PoP in its own access network and the core routers in the backbone", () => {
    expect(of(lab.addr("fra"))?.owner).toBe("Lab Access Frankfurt");
    expect(of(lab.addr("sin"))?.asn).toBe(64502);
    expect(of(lab.addr("core2"))?.owner).toBe("Lab Backbone Carrier");
    expect(of(lab.addr("tclean"))?.owner).toBe("Lab Hosting");
  });

  it("lists every interface address once, as host prefixes of both families", () => {
    const cidrs = origins.map((o) => o.cidr);
    expect(new Set(cidrs).size).toBe(cidrs.length);
    expect(cidrs.every((c) => c.endsWith("/32") || c.endsWith("/128"))).toBe(true);
    expect(of(lab.addr("tclean", 6))?.owner).toBe("Lab Hosting");
  });
});
