import { describe, expect, it } from "vitest";
import { wholeNumber } from "./numbers";

describe("wholeNumber", () => {
  it.each([
    ["2", 2],
    ["-5", -5],
    ["1e3", 1000],
    [" 7 ", 7],
    ["0", 0],
  ])("reads %j as %d", (typed, n) => expect(wholeNumber(typed)).toBe(n));

  it.each(["", " ", "2.5", "abc", "1e300", "Infinity"])("reads %j as no whole number", (typed) => expect(wholeNumber(typed)).toBeNull());
});
