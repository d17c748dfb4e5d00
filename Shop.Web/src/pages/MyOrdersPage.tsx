import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";
import { api } from "../api/client";
import { queryKeys } from "../api/queries";
import type { OrderStatus } from "../api/types";
import { OrderStatusFilter, OrderTable } from "../components/OrderTable";
import { EmptyState, PageHeader } from "../components/ui";

const PAGE_SIZE = 20;

export default function MyOrdersPage() {
  const [params, setParams] = useSearchParams();
  const status = (params.get("status") ?? "") as OrderStatus | "";
  const offset = Math.max(0, Number(params.get("offset")) || 0);

  const query = useQuery({
    queryKey: queryKeys.ordersPage({ status, userId: "", limit: PAGE_SIZE, offset, scope: "mine" }),
    queryFn: () => api.listOrders({ status: status || undefined, limit: PAGE_SIZE, offset }),
    placeholderData: keepPreviousData,
  });

  function set(next: { status?: string; offset?: number }) {
    const p = new URLSearchParams();
    const s = next.status ?? status;
    if (s) p.set("status", s);
    if (next.offset) p.set("offset", String(next.offset));
    setParams(p, { replace: true });
  }

  return (
    <>
      <PageHeader
        title="My orders"
        actions={
          <OrderStatusFilter hideLabel value={status} onChange={(e) => set({ status: e.target.value, offset: 0 })} />
        }
      />
      <OrderTable
        query={query}
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
