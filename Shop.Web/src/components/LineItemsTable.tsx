import type { ReactNode } from "react";
import { formatMoney } from "../lib/format";
import { DataTable } from "./DataTable";
import { cx } from "./ui";

export interface LineItem {
  sku: string;
  name: string;
  qty: number;
  unitPrice: number;
  total: number;
  /** Marks the line and says what stands between it and the order ("Not enough stock"). */
  problem?: string;
  /** What the shopper can do about the problem here (a Remove button). */
  action?: ReactNode;
}

/** The lines of a cart or an order: item, quantity, unit price (hidden on phones) and line total. */
export function LineItemsTable({
  caption,
  priceLabel,
  lines,
  footer,
}: {
  caption: string;
  priceLabel: string;
  lines: LineItem[];
  footer?: ReactNode;
}) {
  const columns = [
    { label: "Item" },
    { label: "Qty", className: "text-right" },
    { label: priceLabel, className: "hidden text-right sm:table-cell" },
    { label: "Total", className: "text-right" },
  ];
  return (
    <DataTable columns={columns} caption={caption} footer={footer}>
      {lines.map((line) => (
        <tr key={line.sku} className={cx(line.problem && "bg-red-50")}>
          <td className="px-4 py-3">
            <p className="font-medium wrap-anywhere text-stone-900">{line.name}</p>
            <p className="font-mono text-xs break-all text-stone-500">{line.sku}</p>
            {line.problem ? <p className="mt-1 text-xs font-medium text-red-700">{line.problem}</p> : null}
            {line.action}
          </td>
          <td className="px-4 py-3 text-right">{line.qty}</td>
          <td className="hidden px-4 py-3 text-right sm:table-cell">{formatMoney(line.unitPrice)}</td>
          <td className="px-4 py-3 text-right font-medium">{formatMoney(line.total)}</td>
        </tr>
      ))}
    </DataTable>
  );
}
