import type { OrderStatus } from "../api/types";
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
