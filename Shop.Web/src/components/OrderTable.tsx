import type { ComponentProps, ReactNode } from "react";
import { Link, useLocation } from "react-router";
import type { QueryKey, UseQueryResult } from "@tanstack/react-query";
import { ORDER_STATUSES, type Order, type Paged } from "../api/types";
import { capitalize, formatDateTime, formatMoney, shortId } from "../lib/format";
import { PagedTable } from "./PagedTable";
import { SelectField, StatusBadge } from "./ui";

/** What an order's page is told by the link that opened it. */
export interface OrderPageState {
  /** Just placed (the checkout): the page thanks the shopper. */
  placed?: boolean;
  /** The filters and page ("?status=paid&offset=50") of the list it was opened from. */
  listSearch?: string;
}

/** A page of orders as a table on wide screens; rows stack into cards on phones. */
export function OrderTable({
  query,
  queryKey,
  linkBase,
  showUser = false,
  actions,
  empty,
  loadingLabel,
  pages,
}: {
  query: UseQueryResult<Paged<Order>>;
  queryKey: QueryKey;
  linkBase: string;
  showUser?: boolean;
  actions?: (order: Order) => ReactNode;
  empty: ReactNode;
  loadingLabel?: string;
  pages: { size: number; offset: number; onChange: (offset: number) => void };
}) {
  const columns = [
    { label: "Order" },
    ...(showUser ? [{ label: "User" }] : []),
    { label: "Placed" },
    { label: "Items" },
    { label: "Total", className: "text-right" },
    { label: "Status" },
    ...(actions ? [{ label: "Change status" }] : []),
  ];
  return (
    <PagedTable
      query={query}
      queryKey={queryKey}
      columns={columns}
      row={(o) => <OrderRow key={o.id} order={o} linkBase={linkBase} showUser={showUser} actions={actions} />}
      empty={empty}
      loadingLabel={loadingLabel}
      what="the orders"
      pages={{ ...pages, label: "Order pages" }}
    />
  );
}

function OrderRow({
  order: o,
  linkBase,
  showUser,
  actions,
}: {
  order: Order;
  linkBase: string;
  showUser: boolean;
  actions?: (order: Order) => ReactNode;
}) {
  const cell = "block px-4 py-1 wrap-anywhere md:table-cell md:py-3";
  const label = "mr-2 text-xs text-stone-500 md:hidden";
  // The list's filters and page go with the link, for the order page's link back to this list as it is.
  const { search } = useLocation();
  const state: OrderPageState = { listSearch: search };
  return (
    <tr className="block py-3 md:table-row md:py-0">
      <td className={cell}>
        <Link to={`${linkBase}/${o.id}`} state={state} className="font-medium text-indigo-700 hover:underline">
          Order {shortId(o.id)}
        </Link>
      </td>
      {showUser ? (
        <td className={cell}>
          <span className={label}>User</span>#{o.user_id}
        </td>
      ) : null}
      <td className={`${cell} text-stone-600`}>
        <span className={label}>Placed</span>
        {formatDateTime(o.created_at)}
      </td>
      <td className={`${cell} text-stone-600`}>
        <span className={label}>Items</span>
        {o.items.reduce((n, i) => n + i.qty, 0)}
      </td>
      <td className={`${cell} font-medium md:text-right`}>
        <span className={label}>Total</span>
        {formatMoney(o.total)}
      </td>
      <td className={cell}>
        <StatusBadge status={o.status} />
      </td>
      {actions ? <td className={cell}>{actions(o)}</td> : null}
    </tr>
  );
}

/** The "Status" filter of an order list: every status, or "All statuses" (the empty value). */
export function OrderStatusFilter(props: Omit<ComponentProps<typeof SelectField>, "label" | "children">) {
  return (
    <SelectField label="Status" {...props}>
      <option value="">All statuses</option>
      {ORDER_STATUSES.map((s) => (
        <option key={s} value={s}>
          {capitalize(s)}
        </option>
      ))}
    </SelectField>
  );
}
