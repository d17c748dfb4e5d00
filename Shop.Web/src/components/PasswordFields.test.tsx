import { describe, expect, it } from "vitest";
import { newPasswordProblem } from "./PasswordFields";

describe("newPasswordProblem", () => {
  it("counts characters as Users does: an emoji is one", () => {
    expect(newPasswordProblem("😀".repeat(8))).toBeNull();
    expect(newPasswordProblem("😀".repeat(7))).toBe("Password must be at least 8 characters.");
  });

  it("counts the password as typed: its spaces are part of it", () => {
    expect(newPasswordProblem("  abcdef")).toBeNull();
    expect(newPasswordProblem(" abcdef")).toBe("Password must be at least 8 characters.");
  });
});
