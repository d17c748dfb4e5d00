import type { Order, OrderStatus } from "../api/types";
import { formatDateTime } from "./format";

/**
 * Allowed status moves (the server's rule). Anything else is refused by the server with 409. `expired` is never a
 * move anyone makes: the server sets it on pending orders past their `expires_at`.
 */
export const NEXT_STATUSES: Record<OrderStatus, OrderStatus[]> = {
  pending: ["paid", "cancelled"],
  paid: ["shipped", "cancelled"],
  shipped: ["delivered"],
  delivered: [],
  cancelled: [],
  expired: [],
};

export function nextStatuses(status: OrderStatus): OrderStatus[] {
  return NEXT_STATUSES[status] ?? [];
}

/** Cancelled and expired orders are over: their stock went back and nothing more can happen to them. */
export function isFinal(status: OrderStatus): boolean {
  return status === "cancelled" || status === "expired";
}

/** A line for the order page about the status's deadline or outcome, or null when there is nothing to say. */
export function statusNote(status: OrderStatus, expiresAt: string | null | undefined): string | null {
  if (status === "expired") return "This order was not paid in time and has expired; its items were returned to stock.";
  if (status === "pending" && expiresAt) return `Expires at ${formatDateTime(expiresAt)} unless it is paid.`;
  return null;
}

/** While the server still says pending past the deadline (its sweep runs every 15 s), how often to ask again. */
export const PAST_DUE_RECHECK_MS = 5_000;
// A timer longer than 2^31-1 ms fires at once: a far deadline is checked hourly instead.
const LONGEST_WAIT_MS = 60 * 60_000;

/**
 * When an order's page should read it again because of its deadline: as a pending order's expires_at passes, then
 * every few seconds until the server has expired it. False for any other order: nothing happens to it on a clock.
 */
export function expiryRecheckMs(order: Pick<Order, "status" | "expires_at"> | undefined, now = Date.now()): number | false {
  if (order?.status !== "pending" || !order.expires_at) return false;
  const left = Date.parse(order.expires_at) - now;
  if (Number.isNaN(left)) return false;
  return left > 0 ? Math.min(left, LONGEST_WAIT_MS) : PAST_DUE_RECHECK_MS;
}
