import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";
import { api } from "../api/client";
import { queryKeys } from "../api/queries";
import { ORDER_STATUSES, type OrderStatus } from "../api/types";
import { OrderTable } from "../components/OrderTable";
import { EmptyState, ErrorAlert, Loading, PageHeader, Pagination, SelectField } from "../components/ui";
import { capitalize } from "../lib/format";

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
          <SelectField label="Status" hideLabel value={status} onChange={(e) => set({ status: e.target.value, offset: 0 })}>
            <option value="">All statuses</option>
            {ORDER_STATUSES.map((s) => (
              <option key={s} value={s}>
                {capitalize(s)}
              </option>
            ))}
          </SelectField>
        }
      />
      {query.isPending ? (
        <Loading label="Loading your orders…" />
      ) : query.isError ? (
        <ErrorAlert error={query.error} />
      ) : query.data.items.length === 0 ? (
        <EmptyState title={status ? `No ${status} orders` : "You have no orders yet"}>
          <Link to="/catalog" className="font-medium text-indigo-700 hover:underline">
            Start shopping
          </Link>
        </EmptyState>
      ) : (
        <>
          <OrderTable orders={query.data.items} linkBase="/my/orders" />
          <Pagination total={query.data.total} limit={PAGE_SIZE} offset={offset} onChange={(o) => set({ offset: o })} label="Order pages" />
        </>
      )}
    </>
  );
}
