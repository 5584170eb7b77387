import { describe, expect, it } from "vitest";
import * as entry from "./index";
import * as testing from "./testing";

describe("the package's entries", () => {
  it("the public entry exports no test helper; @lg/tracer/testing exports them", () => {
    for (const name of ["ScriptedPort", "ManualClock", "linearPath"]) {
      expect(Object.keys(entry)).not.toContain(name);
      expect(Object.keys(testing)).toContain(name);
    }
  });
});
