import { isIP } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseMplsList, parseReplyLine } from "./command";

export const RUNS = 20_000;

const KINDS = [
  "reply",
  "ttl-expired",
  "no-route",
  "no-reply",
  "invalid-argument",
  "probes-exhausted",
  "bogus",
];
const word = fc.oneof(
  fc.constantFrom(
    ...KINDS,
    "ip-4",
    "ip-6",
    "round-trip-time",
    "mpls",
    "reason",
    "-1",
    "1e999",
    "NaN",
    "0x10",
  ),
  fc.ipV4(),
  fc.ipV6(),
  fc.integer().map(String),
  fc.double().map(String),
  fc.string({ maxLength: 12 }),
  fc.array(fc.integer({ min: -5, max: 1_100_000 }), { maxLength: 9 }).map((a) => a.join(",")),
);
/** Lines that look like mtr-packet's grammar with random words in any slot. */
const grammarLike = fc
  .tuple(fc.oneof(fc.nat().map(String), word), fc.constantFrom(...KINDS), fc.array(word, { maxLength: 8 }))
  .map(([token, kind, rest]) => [token, kind, ...rest].join(" "));
const anyLine = fc.oneof(
  fc.string(),
  fc.string({ unit: "grapheme" }),
  fc.string({ unit: "binary" }),
  grammarLike,
);

describe("mtr-packet reply parser under random lines", () => {
  it("never throws; returns null or a well-typed outcome", () => {
    let typed = 0;
    fc.assert(
      fc.property(anyLine, (line) => {
        const parsed = parseReplyLine(line);
        if (parsed === null) return;
        typed++;
        expect(Number.isInteger(parsed.token)).toBe(true);
        const o = parsed.outcome;
        if (o.kind === "reply" || o.kind === "ttl-expired" || o.kind === "no-route") {
          expect(isIP(o.address)).toBe(o.family);
          expect(Number.isFinite(o.rttUs) && o.rttUs >= 0).toBe(true);
          for (const m of o.mpls) expect(Number.isInteger(m.label) && Number.isInteger(m.ttl)).toBe(true);
        } else if (o.kind === "failure") {
          expect(typeof o.reason).toBe("string");
        } else {
          expect(o.kind).toBe("no-reply");
        }
      }),
      { numRuns: RUNS },
    );
    // The grammar-shaped lines must reach the typed branches, or the property tests nothing.
    expect(typed).toBeGreaterThan(RUNS / 20);
  });

  it("a responder that is not an address of the stated family is not a reply", () => {
    expect(parseReplyLine("7 reply ip-4 not-an-address round-trip-time 100")).toBeNull();
    expect(parseReplyLine("7 ttl-expired ip-4 2001:db8::1 round-trip-time 100")).toBeNull();
    expect(parseReplyLine("7 reply ip-6 198.18.0.1 round-trip-time 100")).toBeNull();
    expect(parseReplyLine("7 reply ip-4 198.18.0.1 round-trip-time 100")).toMatchObject({
      token: 7,
      outcome: { kind: "reply", address: "198.18.0.1", family: 4, rttUs: 100 },
    });
  });

  it("the MPLS list parser never throws and returns whole labels or null", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(fc.double(), { maxLength: 12 }).map((a) => a.join(",")),
        ),
        (s) => {
          const labels = parseMplsList(s);
          if (labels) for (const l of labels) expect(Number.isInteger(l.label)).toBe(true);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
