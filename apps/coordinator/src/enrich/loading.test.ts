import { describe, expect, it } from "vitest";
import { loadIfAsked, sharedUntilFailure } from "./loading";

describe("loading enrichment tables", () => {
  it("a table the settings do not ask for (unset, empty, false) is not loaded", async () => {
    const asked: unknown[] = [];
    const load = async (file: unknown) => {
      asked.push(file);
      return "table";
    };
    const errors: unknown[] = [];
    expect(await loadIfAsked(undefined, load, (e) => errors.push(e))).toBeUndefined();
    expect(await loadIfAsked("", load, (e) => errors.push(e))).toBeUndefined();
    expect(await loadIfAsked(false, load, (e) => errors.push(e))).toBeUndefined();
    expect(await loadIfAsked("places.csv", load, (e) => errors.push(e))).toBe("table");
    expect(asked).toEqual(["places.csv"]);
    expect(errors).toEqual([]);
  });

  it("a table that fails to load is reported and left out", async () => {
    const errors: unknown[] = [];
    const failure = new Error("cannot read places.csv");
    const table = await loadIfAsked(
      "places.csv",
      async () => {
        throw failure;
      },
      (e) => errors.push(e),
    );
    expect(table).toBeUndefined();
    expect(errors).toEqual([failure]);
  });

  it("a shared load starts once for every caller, and again after it failed", async () => {
    let starts = 0;
    const load = sharedUntilFailure(async () => {
      starts++;
      if (starts === 1) throw new Error("not yet");
      return starts;
    });
    await expect(load()).rejects.toThrow("not yet");
    const [a, b] = await Promise.all([load(), load()]);
    expect([a, b, starts]).toEqual([2, 2, 2]);
    expect(await load()).toBe(2);
  });
});
