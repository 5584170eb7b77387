import { describe, expect, it } from "vitest";
import { CliError } from "./errors";
import { numberOption } from "./options";

describe("numberOption", () => {
  it("reads numbers and whole numbers, and leaves a flag not given undefined", () => {
    expect(numberOption("-i/--interval", "0.1")).toBe(0.1);
    expect(numberOption("-c/--count", "30", { integer: true })).toBe(30);
    expect(numberOption("-c/--count", undefined, { integer: true })).toBeUndefined();
  });

  it.each([
    ["", {}, '-x: "" is not a number'],
    ["  ", { integer: true }, '-x: "  " is not a whole number'],
    ["ten", { integer: true }, '-x: "ten" is not a whole number'],
    ["2.5", { integer: true }, '-x: "2.5" is not a whole number'],
    ["Infinity", {}, '-x: "Infinity" is not a number'],
    ["-1", { min: 0 }, '-x: "-1" is less than 0'],
    ["1.5", { max: 1 }, '-x: "1.5" is more than 1'],
  ])("refuses %j (%o) as a usage error naming the flag", (text, opts, message) => {
    expect(() => numberOption("-x", text, opts)).toThrow(CliError);
    expect(() => numberOption("-x", text, opts)).toThrow(expect.objectContaining({ message, exitCode: 2 }));
  });
});
