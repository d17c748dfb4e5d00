import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api } from "../api/client";
import { queryKeys } from "../api/queries";
import type { OrderStatus } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { OrderStatusFilter, OrderTable } from "../components/OrderTable";
import { EmptyState, PageHeader } from "../components/ui";
import { useListParams } from "../lib/useListParams";

const PAGE_SIZE = 20;

export default function MyOrdersPage() {
  const { values, offset, set } = useListParams(["status"] as const);
  const status = values.status as OrderStatus | "";
  // Orders lists an admin's request without user_id as everyone's orders: the signed-in user's id is always sent
  // (a customer's is ignored, Orders lists only theirs anyway).
  const userId = String(useAuth().user?.id ?? "");

  const queryKey = queryKeys.ordersPage({ status, userId, limit: PAGE_SIZE, offset, scope: "mine" });
  const query = useQuery({
    queryKey,
    queryFn: () => api.listOrders({ status: status || undefined, user_id: userId, limit: PAGE_SIZE, offset }),
    placeholderData: keepPreviousData,
  });

  return (
    <>
      <PageHeader
        title="My orders"
        actions={
          <OrderStatusFilter hideLabel value={status} onChange={(e) => set({ status: e.target.value })} />
        }
      />
      <OrderTable
        query={query}
        queryKey={queryKey}
        linkBase="/my/orders"
        loadingLabel="Loading your orders…"
        empty={
          <EmptyState title={status ? `No ${status} orders` : "You have no orders yet"}>
            <Link to="/catalog" className="font-medium text-indigo-700 hover:underline">
              Start shopping
            </Link>
          </EmptyState>
        }
        pages={{ size: PAGE_SIZE, offset, onChange: (o) => set({ offset: o }) }}
      />
    </>
  );
}
