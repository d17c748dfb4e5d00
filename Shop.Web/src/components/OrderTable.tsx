import type { ReactNode } from "react";
import { Link } from "react-router";
import type { Order } from "../api/types";
import { formatDateTime, formatMoney, shortId } from "../lib/format";
import { StatusBadge } from "./ui";

/** Orders as a table on wide screens; rows stack into cards on phones. */
export function OrderTable({
  orders,
  linkBase,
  showUser = false,
  actions,
}: {
  orders: Order[];
  linkBase: string;
  showUser?: boolean;
  actions?: (order: Order) => ReactNode;
}) {
  const cell = "block px-4 py-1 wrap-anywhere md:table-cell md:py-3";
  const label = "mr-2 text-xs text-stone-500 md:hidden";
  return (
    <div className="overflow-x-auto rounded-xl border border-stone-200 bg-white shadow-sm">
      <table className="w-full text-sm">
        <thead className="hidden bg-stone-50 text-left text-xs uppercase tracking-wide text-stone-500 md:table-header-group">
          <tr>
            <th scope="col" className="px-4 py-3 font-medium">Order</th>
            {showUser ? <th scope="col" className="px-4 py-3 font-medium">User</th> : null}
            <th scope="col" className="px-4 py-3 font-medium">Placed</th>
            <th scope="col" className="px-4 py-3 font-medium">Items</th>
            <th scope="col" className="px-4 py-3 text-right font-medium">Total</th>
            <th scope="col" className="px-4 py-3 font-medium">Status</th>
            {actions ? <th scope="col" className="px-4 py-3 font-medium">Change status</th> : null}
          </tr>
        </thead>
        <tbody className="divide-y divide-stone-100">
          {orders.map((o) => (
            <tr key={o.id} className="block py-3 md:table-row md:py-0">
              <td className={cell}>
                <Link to={`${linkBase}/${o.id}`} className="font-medium text-indigo-700 hover:underline">
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
          ))}
        </tbody>
      </table>
    </div>
  );
}
