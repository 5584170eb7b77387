import { lossInterval } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import { mdaProbesNeeded } from "./mda";
import { HopStats } from "./stats";

function hopWith(rtts: (number | null)[]): HopStats {
  const s = new HopStats(3);
  for (const rtt of rtts) {
    s.probeSent();
    if (rtt === null) s.probeLost();
    else s.probeAnswered("198.18.0.3", rtt, []);
  }
  return s;
}

describe("HopStats", () => {
  it("a hop answering 7 of 10 probes shows Loss% 30.0 and Drop 3", () => {
    const hop = hopWith([1, 1, null, 1, null, 1, 1, null, 1, 1]).toHop();
    expect(hop.lossPct).toBeCloseTo(30, 10);
    expect(hop.sent).toBe(10);
    expect(hop.recv).toBe(7);
    expect(hop.drop).toBe(3);
  });
  it("carries the 95% Wilson interval of its loss: 3 lost of 10 is 10.8-60.3%", () => {
    expect(hopWith([1, 1, null, 1, null, 1, 1, null, 1, 1]).toHop().lossCi).toEqual([10.8, 60.3]);
  });
  it("leaves a probe still in flight out of the interval, as out of Loss%", () => {
    const s = hopWith([1, null, 1]);
    s.probeSent();
    expect(s.toHop().lossCi).toEqual(lossInterval(3, 2));
  });
  it("computes Last, Best, Worst, Avg and the sample StDev like mtr", () => {
    const hop = hopWith([2, 4, 4, 4, 5, 5, 7, 9]).toHop();
    expect(hop.last).toBe(9);
    expect(hop.best).toBe(2);
    expect(hop.worst).toBe(9);
    expect(hop.avg).toBe(5);
    // sum of squared deviations 32 over n - 1 = 7
    expect(hop.stdev).toBeCloseTo(Math.sqrt(32 / 7), 12);
  });
  it("computes jitter from consecutive replies, the first counting as 0 in Javg", () => {
    const hop = hopWith([10, 12, null, 11, 15]).toHop();
    // jitters: 0, 2, 1, 4
    expect(hop.jitter).toBe(4);
    expect(hop.jitterMax).toBe(4);
    expect(hop.jitterAvg).toBeCloseTo(7 / 4, 12);
  });
  it("reports zeros and no host for a silent hop", () => {
    const hop = hopWith([null, null]).toHop();
    expect(hop).toMatchObject({ host: null, lossPct: 100, recv: 0, avg: 0, stdev: 0, responders: [] });
  });
  it("leaves probes in flight out of Loss%, as mtr does", () => {
    const s = hopWith([1, null]);
    s.probeSent();
    expect(s.toHop().lossPct).toBe(50);
    expect(s.toHop().drop).toBe(1);
  });
  it("counts each responder and names the most frequent one as the host", () => {
    const s = new HopStats(2);
    for (const a of ["198.18.1.1", "198.18.2.1", "198.18.2.1", "198.18.1.1", "198.18.2.1"]) {
      s.probeSent();
      s.probeAnswered(a, 1, []);
    }
    const hop = s.toHop();
    expect(hop.host).toBe("198.18.2.1");
    expect(hop.responders).toEqual([
      { address: "198.18.2.1", count: 3 },
      { address: "198.18.1.1", count: 2 },
    ]);
  });
  it("keeps at most 8 responders", () => {
    const s = new HopStats(2);
    for (let i = 0; i < 10; i++) {
      s.probeSent();
      s.probeAnswered(`198.18.9.${i}`, 1, []);
    }
    expect(s.toHop().responders).toHaveLength(8);
    expect(s.toHop().recv).toBe(10);
  });
  it("carries MPLS labels of the responder", () => {
    const s = new HopStats(4);
    s.probeSent();
    s.probeAnswered("198.18.4.1", 1, [{ label: 24005, tc: 0, bottom: true, ttl: 254 }]);
    expect(s.toHop().mpls).toEqual([{ label: 24005, tc: 0, bottom: true, ttl: 254 }]);
    expect(s.toHop().responders[0]?.mpls).toHaveLength(1);
  });
  it("a probe that never left counts neither as sent nor as lost", () => {
    const s = hopWith([1, null]);
    s.probeSent();
    s.probeUnsent();
    expect(s.toHop()).toMatchObject({ sent: 2, recv: 1, drop: 1, lossPct: 50 });
    expect(s.inFlight).toBe(0);
  });
  it("exposes its figures read-only: only its methods change them", () => {
    const s = hopWith([1]);
    // @ts-expect-error sent has a getter only
    expect(() => (s.sent = 5)).toThrow(TypeError);
    expect(s.sent).toBe(1);
  });
});

describe("mdaProbesNeeded", () => {
  it("gives the 95% stopping points 6, 11, 16, 21, 27, 33, 38, 44", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((k) => mdaProbesNeeded(k))).toEqual([6, 11, 16, 21, 27, 33, 38, 44]);
  });
});
