import type { ReactNode } from "react";
import { cx } from "./ui";

/** A header cell: its label and any classes it needs (alignment, hiding on small screens). */
export interface Column {
  label: string;
  className?: string;
}

/**
 * The table every list in the app uses: a header row built from `columns`, then the rows the caller renders.
 * `stacked` hides the header on phones, where the rows stack into cards; `dense` is the smaller padding of a
 * table nested inside a card.
 */
export function DataTable({
  columns,
  caption,
  stacked = false,
  dense = false,
  footer,
  children,
}: {
  columns: Column[];
  caption?: string;
  stacked?: boolean;
  dense?: boolean;
  footer?: ReactNode;
  children: ReactNode;
}) {
  return (
    <table className="w-full text-sm">
      {caption ? <caption className="sr-only">{caption}</caption> : null}
      <thead
        className={cx(
          "bg-stone-50 text-left text-xs uppercase tracking-wide text-stone-500",
          stacked && "hidden md:table-header-group",
        )}
      >
        <tr>
          {columns.map((column) => (
            <th key={column.label} scope="col" className={cx(dense ? "px-3 py-2" : "px-4 py-3", "font-medium", column.className)}>
              {column.label}
            </th>
          ))}
        </tr>
      </thead>
      <tbody className="divide-y divide-stone-100">{children}</tbody>
      {footer ? <tfoot>{footer}</tfoot> : null}
    </table>
  );
}
