import type { ReverseSessionView } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import { legVerdictLines } from "./join";

type Leg = ReverseSessionView["legs"][number];

/** A leg with only what the verdict line reads. */
const leg = (a: string, b: Leg["b"], rest: { comparison?: unknown; forward: unknown }): Leg =>
  ({ a, b, comparison: null, ...rest }) as Leg;

describe("the customer's closing lines", () => {
  it("a leg with a comparison gives its verdict and summary; one without gives the forward trace's verdict, else its status", () => {
    const session = {
      legs: [
        leg("join-s1", "srv", {
          comparison: { verdict: "symmetric", summary: "both ways cross the same routers" },
          forward: { status: "done" },
        }),
        leg("vm", { host: "203.0.113.7" }, { forward: { status: "done", diagnosis: { verdict: "ok" } } }),
        leg("cust", "vm", { forward: { status: "failed" } }),
      ],
    } as unknown as ReverseSessionView;
    expect(legVerdictLines(session)).toEqual([
      "join-s1 ⇄ srv: symmetric; both ways cross the same routers",
      "vm ⇄ 203.0.113.7: forward ok",
      "cust ⇄ vm: forward failed",
    ]);
  });
});
