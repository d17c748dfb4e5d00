import type { ReactNode } from "react";
import type { UseQueryResult } from "@tanstack/react-query";
import type { Paged } from "../api/types";
import { useBackFromPastTheEnd } from "../lib/useBackFromPastTheEnd";
import { DataTable, type Column } from "./DataTable";
import { ErrorAlert, Loading, Pagination, cx } from "./ui";

/**
 * One page of a paged list as a table: loading, error and empty states, the table, then the pager.
 * The caller owns the query (and so its key and the offset) and renders each row as a keyed `<tr>`.
 */
export function PagedTable<T>({
  query,
  columns,
  row,
  empty,
  loadingLabel,
  caption,
  dense = false,
  pages,
}: {
  query: UseQueryResult<Paged<T>>;
  columns: Column[];
  row: (item: T) => ReactNode;
  empty: ReactNode;
  loadingLabel?: string;
  caption?: string;
  dense?: boolean;
  /** The page size the query asked for, its offset, how to move to another offset, and the pager's name. */
  pages: { size: number; offset: number; onChange: (offset: number) => void; label: string };
}) {
  const movingBack = useBackFromPastTheEnd(query.data, pages.size, pages.offset, pages.onChange);

  if (query.isPending || movingBack) return <Loading label={loadingLabel} />;
  if (query.isError) return <ErrorAlert error={query.error} />;
  if (query.data.items.length === 0) return <>{empty}</>;
  return (
    <>
      <div
        className={cx(
          "overflow-x-auto border border-stone-200",
          dense ? "rounded-lg" : "rounded-xl bg-white shadow-sm",
        )}
      >
        <DataTable columns={columns} caption={caption} dense={dense} stacked>
          {query.data.items.map(row)}
        </DataTable>
      </div>
      <Pagination total={query.data.total} limit={pages.size} offset={pages.offset} onChange={pages.onChange} label={pages.label} />
    </>
  );
}
