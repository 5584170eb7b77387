import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import * as protocol from "./index";

/**
 * Every zod schema the protocol exports, fed random values: `safeParse` never throws, and
 * `parse` throws nothing but a ZodError. These schemas guard every process boundary (NATS
 * messages, API bodies), so a value that crashes one would crash a coordinator or an agent.
 */
const schemas: [string, z.ZodType][] = Object.entries(protocol as Record<string, unknown>).flatMap(
  ([name, value]): [string, z.ZodType][] => (value instanceof z.ZodType ? [[name, value]] : []),
);

export const RUNS_PER_SCHEMA = 1_000;

/** Objects shaped like protocol messages, with a hostile value in some field. */
const hostile = fc.oneof(
  fc.constantFrom(
    "__proto__",
    "constructor",
    "NaN",
    "\u0000",
    "\ud800",
    "9".repeat(400),
    "<script>alert(1)</script>",
  ),
  fc.double(),
  fc.bigInt(),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0, Number.MAX_SAFE_INTEGER + 2),
);
const messageLike = fc.dictionary(
  fc.constantFrom(
    "v",
    "id",
    "kind",
    "agent",
    "traceId",
    "measurementId",
    "agentId",
    "target",
    "options",
    "hops",
    "status",
    "failure",
    "ttl",
    "count",
    "interval",
    "from",
    "__proto__",
  ),
  fc.oneof(fc.anything(), hostile, fc.array(fc.anything(), { maxLength: 3 })),
);
const anyInput = fc.oneof(fc.anything({ withObjectString: true, withNullPrototype: true }), messageLike);

/** What `schema.parse(input)` did: "parsed", "ZodError", or "other: ..." for anything else it threw. */
function parseOutcome(schema: z.ZodType, input: unknown): string {
  try {
    schema.parse(input);
    return "parsed";
  } catch (err) {
    return err instanceof z.ZodError ? "ZodError" : `other: ${String(err)}`;
  }
}

// The runs are about what parse does, not how fast: on a loaded 2-core machine a thousand runs over
// the larger schemas took longer than vitest's default 5 s.
describe("protocol schemas under random input", { timeout: 60_000 }, () => {
  it("exports at least the message and API schemas", () => {
    const names = schemas.map(([n]) => n);
    for (const n of [
      "JobRequest",
      "JobReply",
      "PresenceMessage",
      "FinalResultMessage",
      "MeasurementRequest",
    ]) {
      expect(names).toContain(n);
    }
  });

  it.each(schemas)("%s: safeParse never throws; parse throws only ZodError", (_name, schema) => {
    fc.assert(
      fc.property(anyInput, (input) => {
        const result = schema.safeParse(input);
        expect(typeof result.success).toBe("boolean");
        expect(["parsed", "ZodError"]).toContain(parseOutcome(schema, input));
      }),
      { numRuns: RUNS_PER_SCHEMA },
    );
  });

  it("the same holds for JSON text off the wire (JSON.parse of random strings and of JSON values)", () => {
    const wire = fc.oneof(fc.string(), fc.json());
    const messageSchemas = schemas.filter(([n]) => /Message|Job|Reply|Request/.test(n));
    fc.assert(
      fc.property(wire, (text) => {
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          return;
        }
        for (const [, schema] of messageSchemas)
          expect(typeof schema.safeParse(value).success).toBe("boolean");
      }),
      { numRuns: RUNS_PER_SCHEMA },
    );
  });
});
