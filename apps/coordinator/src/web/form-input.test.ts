import { describe, expect, it } from "vitest";
import { errorField } from "./components/form-page";
import { formValues, measurementBody } from "./form-input";

describe("form fields to the API body", () => {
  it("turns ticked PoPs into from, numbers into numbers, and leaves out what was not given", () => {
    const v = formValues({
      target: " 198.18.9.2 ",
      from: ["fra", "sin"],
      protocol: "tcp",
      port: "443",
      ipVersion: "4",
      count: "20",
    });
    expect(measurementBody(v)).toEqual({
      target: "198.18.9.2",
      from: ["fra", "sin"],
      protocol: "tcp",
      port: 443,
      ipVersion: 4,
      count: 20,
    });
    expect(measurementBody(formValues({ target: "x", ipVersion: "auto" }))).toEqual({
      target: "x",
      protocol: "icmp",
    });
  });

  it("ignores a leftover port when ICMP is chosen", () => {
    expect(measurementBody(formValues({ target: "x", protocol: "icmp", port: "80" }))).not.toHaveProperty(
      "port",
    );
  });

  it("passes text that is not a number through, so the schema names the field", () => {
    expect(measurementBody(formValues({ target: "x", count: "ten" })).count).toBe("ten");
  });

  it("a single PoP box arrives as a string and still becomes a list", () => {
    expect(measurementBody(formValues({ target: "x", from: "fra" })).from).toEqual(["fra"]);
  });

  it("an error on from.1 belongs to the PoP field; an unknown field to the page", () => {
    expect(errorField({ code: "invalid_field", message: "m", field: "from.1" })).toBe("from");
    expect(errorField({ code: "unknown_field", message: "m", field: "evil" })).toBeUndefined();
    expect(errorField({ code: "no_agents_online", message: "m" })).toBeUndefined();
  });
});
