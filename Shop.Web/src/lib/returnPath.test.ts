import { describe, expect, it } from "vitest";
import { safeReturnPath } from "./returnPath";

describe("safeReturnPath", () => {
  it("keeps a path of this app, with its query and fragment", () => {
    expect(safeReturnPath("/orders/42?tab=events#top")).toBe("/orders/42?tab=events#top");
  });

  // Each of these is read by a browser as another origin: a backslash is a slash, tabs and newlines are dropped.
  it.each(["//evil.example", "/\\evil.example", "/\\/evil.example", "/\t/evil.example", "/\n/evil.example", "https://evil.example/orders", "orders"])(
    "sends %j to the catalogue, not to another site",
    (from) => {
      expect(safeReturnPath(from)).toBe("/catalog");
    },
  );

  it("never returns to the sign-in or register page", () => {
    expect(safeReturnPath("/signin")).toBe("/catalog");
    expect(safeReturnPath("/register?x=1")).toBe("/catalog");
    expect(safeReturnPath(undefined)).toBe("/catalog");
  });
});
