import type { Hop } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import { diagnose } from "./diagnose";
import { hop, labHop } from "./fixtures/build";
import { buildTraceView } from "./trace-view";

function regionsOf(hops: Hop[], options = {}): string {
  return buildTraceView(hops, options)
    .hops.map((h) => h.region)
    .join("");
}

const access = { asn: 64500, owner: "Alpha Access" };
const transit = { asn: 64501, owner: "Beta Transit" };
const backbone = { asn: 64502, owner: "Gamma Backbone" };
const hosting = { asn: 64510, owner: "Delta Hosting" };

const withAsns: Hop[] = [
  hop(1, "192.168.1.1", { avg: 1 }),
  labHop(2, { avg: 2, ...access }),
  labHop(3, { avg: 3, ...access }),
  labHop(4, { avg: 4, ...transit }),
  labHop(5, { avg: 5, ...backbone }),
  labHop(6, { avg: 6, ...hosting }),
  labHop(7, { avg: 7, ...hosting }),
];

describe("regions", () => {
  it("with ASNs: private hops and the source's AS are A, the destination's AS is C, carriers between are B", () => {
    expect(regionsOf(withAsns)).toBe("AAABBCC");
  });

  it("without ASNs: leading private hops plus one public hop are A, the last two answering hops are C", () => {
    const hops = [
      hop(1, "192.168.1.1"),
      hop(2, "100.64.0.1"),
      labHop(3),
      labHop(4),
      labHop(5),
      labHop(6),
      labHop(7),
    ];
    expect(regionsOf(hops)).toBe("AAABBCC");
  });

  it("treats IPv6 unique-local and link-local hops as the source's LAN", () => {
    const hops = [
      hop(1, "fe80::1"),
      hop(2, "fd00::1"),
      hop(3, "2001:2::3"),
      hop(4, "2001:2::4"),
      hop(5, "2001:2::5"),
      hop(6, "2001:2::6"),
    ];
    expect(regionsOf(hops)).toBe("AAABCC");
  });

  it("a silent router takes the region of the hop before it", () => {
    const hops = [hop(1, "192.168.1.1"), labHop(2), labHop(3), hop(4, null), labHop(5), labHop(6), labHop(7)];
    expect(regionsOf(hops)).toBe("AABBBCC");
  });

  it("a trace that did not reach its destination has no region C", () => {
    const hops = [labHop(1, access), labHop(2, transit), labHop(3, backbone), hop(4, null), hop(5, null)];
    expect(regionsOf(hops)).toBe("ABBBB");
  });

  it("the destination's AS given by the caller marks its routers C even when the destination is silent", () => {
    const hops = [labHop(1, access), labHop(2, transit), labHop(3, hosting), hop(4, null)];
    expect(regionsOf(hops, { destinationAsn: 64510 })).toBe("ABCC");
  });

  it("with only the destination's AS known, C follows that AS and A stays positional", () => {
    const hops = [
      hop(1, "192.168.1.1"),
      labHop(2),
      labHop(3),
      labHop(4, hosting),
      labHop(5, hosting),
      labHop(6, hosting),
    ];
    expect(regionsOf(hops)).toBe("AABCCC");
  });

  it("a path inside one AS falls back to positions", () => {
    const hops = [
      labHop(1, access),
      labHop(2, access),
      labHop(3, access),
      labHop(4, access),
      labHop(5, access),
    ];
    expect(regionsOf(hops)).toBe("ABBCC");
  });

  it("hops without asn get it from the asnOf lookup", () => {
    const bare = withAsns.map(({ asn: _asn, owner: _owner, ...rest }) => rest as Hop);
    const table = new Map(withAsns.map((h) => [h.host, { asn: h.asn as number, owner: h.owner as string }]));
    const view = buildTraceView(bare, {
      asnOf: (address) => (table.get(address)?.asn ? table.get(address) : undefined),
    });
    expect(view.hops.map((h) => h.region).join("")).toBe("AAABBCC");
    expect(view.hops[3]).toMatchObject({ asn: 64501, owner: "Beta Transit" });
  });
});

describe("advice names whom to contact by region", () => {
  function lossFrom(ttl: number): Hop[] {
    return withAsns.map((h) => (h.ttl >= ttl ? { ...h, sent: 10, recv: 7, drop: 3, lossPct: 30 } : h));
  }

  it("loss starting in a backbone carrier names that carrier's ASN and owner", () => {
    const f = diagnose(lossFrom(4)).findings.find((x) => x.code === "real-loss");
    expect(f).toMatchObject({ region: "B", hops: [4, 5, 6, 7] });
    expect(f?.advice).toContain("AS64501 (Beta Transit)");
  });

  it("loss starting at the LAN gateway sends the reader to the network administrator", () => {
    const f = diagnose(lossFrom(1)).findings.find((x) => x.code === "real-loss");
    expect(f?.region).toBe("A");
    expect(f?.advice).toContain("your network administrator (LAN) or your access carrier");
  });

  it("loss starting in the destination's network names its AS", () => {
    const f = diagnose(lossFrom(6)).findings.find((x) => x.code === "real-loss");
    expect(f?.region).toBe("C");
    expect(f?.advice).toContain("AS64510 (Delta Hosting)");
  });
});
