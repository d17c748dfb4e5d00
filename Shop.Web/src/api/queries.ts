import { QueryClient } from "@tanstack/react-query";
import { ApiError } from "./errors";

// The original design's caching strategy: data is fresh for 5 minutes, kept 10 minutes unused.
// Every mutation invalidates the queries it affects, so the UI never shows stale data after this tab's writes.
export function createQueryClient(): QueryClient {
  const client = new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 5 * 60 * 1000,
        gcTime: 10 * 60 * 1000,
        refetchOnWindowFocus: false,
        retry: (failureCount, error) => {
          // Client errors are final; retry network/5xx hiccups once.
          if (error instanceof ApiError && error.status >= 400 && error.status < 500) return false;
          return failureCount < 1;
        },
      },
      mutations: { retry: false },
    },
  });
  // Orders change without this tab: an admin marks one paid, the server expires one. So their lists, pages and
  // timelines are read again whenever they are shown and when the window has the focus again.
  client.setQueryDefaults(queryKeys.orders, { staleTime: 0, refetchOnWindowFocus: true });
  // Stock changes without this tab too (a restock, other shoppers' orders): an item shown "Out of stock" may be back. The
  // catalogue's pages and items are read again when shown or when the window has the focus again, once 30 s old, not at
  // every glance: one read of a page of 12 items per return, far inside the gateway's Requests budget (100 a second per
  // user). The cart and checkout read their lines' stock whenever they are shown (staleTime 0).
  client.setQueryDefaults(queryKeys.inventory, { staleTime: 30_000, refetchOnWindowFocus: true });
  return client;
}

export const queryKeys = {
  me: ["users", "me"] as const,
  users: ["users", "list"] as const,
  usersPage: (limit: number, offset: number) => ["users", "list", { limit, offset }] as const,
  inventory: ["inventory"] as const,
  item: (sku: string) => ["inventory", "item", sku] as const,
  inventoryLists: ["inventory", "list"] as const,
  inventoryPage: (params: { q: string; inStock: boolean; limit: number; offset: number }) =>
    ["inventory", "list", params] as const,
  orders: ["orders"] as const,
  ordersPage: (params: { status: string; userId: string; limit: number; offset: number; scope: string }) =>
    ["orders", "list", params] as const,
  order: (id: string) => ["orders", "detail", id] as const,
  orderEvents: (id: string) => ["orders", "events", id] as const,
  webhooks: ["webhooks"] as const,
  webhooksPage: (offset: number) => ["webhooks", "list", offset] as const,
  webhookDeliveries: (id: string | number, offset: number) =>
    ["webhooks", "deliveries", String(id), offset] as const,
};
