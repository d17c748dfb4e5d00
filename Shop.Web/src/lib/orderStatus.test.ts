import { describe, expect, it } from "vitest";
import { ORDER_STATUSES } from "../api/types";
import { NEXT_STATUSES, PAST_DUE_RECHECK_MS, expiryRecheckMs, isFinal, nextStatuses, statusNote } from "./orderStatus";

describe("order status", () => {
  it("knows every status the server sends, including expired", () => {
    expect(ORDER_STATUSES).toContain("expired");
    for (const status of ORDER_STATUSES) expect(NEXT_STATUSES[status]).toBeDefined();
  });

  it("never offers expired as a manual move: only the server's expiry job sets it", () => {
    for (const status of ORDER_STATUSES) expect(nextStatuses(status)).not.toContain("expired");
  });

  it("treats an expired order as final, like a cancelled one", () => {
    expect(nextStatuses("expired")).toEqual([]);
    expect(isFinal("expired")).toBe(true);
    expect(isFinal("cancelled")).toBe(true);
    expect(isFinal("pending")).toBe(false);
  });

  it("explains an expired order and a pending order's deadline", () => {
    expect(statusNote("expired", null)).toMatch(/not paid in time.*returned to stock/);
    expect(statusNote("pending", "2026-11-25T10:30:00Z")).toMatch(/^Expires at /);
    expect(statusNote("pending", null)).toBeNull();
    expect(statusNote("paid", null)).toBeNull();
  });

  it("re-reads a pending order as its deadline passes, then every few seconds until the server has expired it", () => {
    const now = Date.parse("2026-11-25T10:00:00Z");
    expect(expiryRecheckMs({ status: "pending", expires_at: "2026-11-25T10:15:00Z" }, now)).toBe(15 * 60_000);
    expect(expiryRecheckMs({ status: "pending", expires_at: "2026-11-25T09:59:00Z" }, now)).toBe(PAST_DUE_RECHECK_MS);
    // Never a timer too long for setTimeout (it would fire at once).
    expect(expiryRecheckMs({ status: "pending", expires_at: "2027-11-25T10:00:00Z" }, now)).toBe(60 * 60_000);
    expect(expiryRecheckMs({ status: "paid", expires_at: null }, now)).toBe(false);
    expect(expiryRecheckMs({ status: "pending", expires_at: null }, now)).toBe(false);
    expect(expiryRecheckMs(undefined, now)).toBe(false);
  });
});
