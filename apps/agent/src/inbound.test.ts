import { PROTOCOL_VERSION } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import { parseCancel, parseJob } from "./inbound";
import { job } from "./test-jobs";

describe("parseJob", () => {
  it("returns the job of a valid request", () => {
    const request = job("p1", "198.18.0.9", { count: 3 });
    expect(parseJob(JSON.stringify(request))).toEqual({ job: request });
  });

  it("calls a payload that is not JSON invalid, without a trace id", () => {
    expect(parseJob("this is not json")).toEqual({
      invalid: { traceId: "", message: "the job is not JSON" },
    });
  });

  it("names the failing field of a request that does not parse, keeping its trace id", () => {
    const bad = { ...job("p2", "198.18.0.9"), options: { count: 0 } };
    const parsed = parseJob(JSON.stringify(bad));
    expect(parsed).toMatchObject({
      invalid: { traceId: "p2", message: expect.stringMatching(/^options\.count: /) },
    });
  });

  it("answers with an empty trace id when the payload's traceId is not a string", () => {
    expect(parseJob(JSON.stringify({ traceId: 7 }))).toMatchObject({ invalid: { traceId: "" } });
    expect(parseJob("null")).toMatchObject({ invalid: { traceId: "" } });
  });
});

describe("parseCancel", () => {
  it("returns the trace id of a cancel", () => {
    expect(parseCancel(JSON.stringify({ v: PROTOCOL_VERSION, traceId: "t1" }))).toEqual({ traceId: "t1" });
  });

  it("drops what is not JSON or not a cancel, saying which", () => {
    expect(parseCancel("{nope")).toEqual({ dropped: "not-json" });
    expect(parseCancel(JSON.stringify({ v: PROTOCOL_VERSION }))).toMatchObject({
      dropped: "malformed",
      issues: expect.stringMatching(/^traceId: /),
    });
  });
});
