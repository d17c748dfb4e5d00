import type { OrderStatus } from "../api/types";

/** Allowed status moves (SPEC §4). Anything else is refused by the server with 409. */
export const NEXT_STATUSES: Record<OrderStatus, OrderStatus[]> = {
  pending: ["paid", "cancelled"],
  paid: ["shipped", "cancelled"],
  shipped: ["delivered"],
  delivered: [],
  cancelled: [],
};

export function nextStatuses(status: OrderStatus): OrderStatus[] {
  return NEXT_STATUSES[status] ?? [];
}
