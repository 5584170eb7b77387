import { describe, expect, it } from "vitest";
import { binomialAtLeast, fisherMoreLoss } from "./stats";

describe("exact tests on probe counts", () => {
  it("binomial tail: losing 2 of 10 to 1% noise has a chance of 0.43%", () => {
    expect(binomialAtLeast(2, 10, 0.01)).toBeCloseTo(0.00427, 4);
    expect(binomialAtLeast(0, 10, 0.5)).toBe(1);
    expect(binomialAtLeast(11, 10, 0.5)).toBe(0);
    expect(binomialAtLeast(10, 10, 0.5)).toBeCloseTo(1 / 1024, 8);
  });
  it("Fisher, one-sided: 5 of 20 lost at a hop against 1 of 20 after it is not decisive (p = 0.09)", () => {
    expect(fisherMoreLoss(5, 20, 1, 20)).toBeCloseTo(0.0909, 3);
  });
  it("Fisher, one-sided: 4 of 33 against none of 66 is (p = 0.011), and equal losses are not", () => {
    expect(fisherMoreLoss(4, 33, 0, 66)).toBeCloseTo(40920 / 3764376, 6);
    expect(fisherMoreLoss(3, 20, 3, 20)).toBeGreaterThan(0.5);
    expect(fisherMoreLoss(0, 20, 0, 20)).toBe(1);
  });
});
