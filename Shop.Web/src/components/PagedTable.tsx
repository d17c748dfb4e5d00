import type { ReactNode } from "react";
import type { QueryKey, UseQueryResult } from "@tanstack/react-query";
import type { Paged } from "../api/types";
import { useBackFromPastTheEnd } from "../lib/useBackFromPastTheEnd";
import { useLastTotal } from "../lib/useLastTotal";
import { useAnnounceResults } from "./Announcer";
import { DataTable, type Column } from "./DataTable";
import { QueryView } from "./QueryView";
import { Loading, Pagination, cx } from "./ui";

/**
 * One page of a paged list as a table: loading, error and empty states, the table, then the pager (a failed re-read
 * keeps them, with a note: QueryView; a new page that cannot be read keeps the pager, with Try again).
 * The caller owns the query (and so its key and the offset) and renders each row as a keyed `<tr>`.
 */
export function PagedTable<T>({
  query,
  queryKey,
  columns,
  row,
  empty,
  loadingLabel,
  caption,
  what,
  dense = false,
  pages,
  announcePageChangesOnly = false,
}: {
  query: UseQueryResult<Paged<T>>;
  /** The query's key: a new one's results are said even in the same words as the last ("1 result." twice). */
  queryKey: QueryKey;
  columns: Column[];
  row: (item: T) => ReactNode;
  empty: ReactNode;
  loadingLabel?: string;
  caption?: string;
  /** What the list holds, for the note when a re-read fails: "the orders". */
  what: string;
  dense?: boolean;
  /** The page size the query asked for, its offset, how to move to another offset, and the pager's name. */
  pages: { size: number; offset: number; onChange: (offset: number) => void; label: string };
  /** For a list re-read on a timer: its new results are said when the user pages, not whenever it moves on its own. */
  announcePageChangesOnly?: boolean;
}) {
  const movingBack = useBackFromPastTheEnd(query.data, pages.size, pages.offset, pages.onChange);
  const loading = <Loading label={loadingLabel} />;
  const total = useLastTotal(query.data);
  const pager = (count: number) => (
    <Pagination total={count} limit={pages.size} offset={pages.offset} onChange={pages.onChange} label={pages.label} />
  );
  // Not the previous results shown while a new query's are on their way (keepPreviousData): they answer the old one.
  useAnnounceResults(movingBack || query.isPlaceholderData ? undefined : query.data, queryKey, { pageChangesOnly: announcePageChangesOnly });

  if (movingBack) return loading;
  return (
    <QueryView query={query} loading={loading} what={what} keep={total !== undefined && pager(total)}>
      {(page) =>
        page.items.length === 0 ? (
          empty
        ) : (
          <>
            <div
              className={cx(
                "overflow-x-auto border border-stone-200",
                dense ? "rounded-lg" : "rounded-xl bg-white shadow-sm",
              )}
            >
              <DataTable columns={columns} caption={caption} dense={dense} stacked>
                {page.items.map(row)}
              </DataTable>
            </div>
            {pager(page.total)}
          </>
        )
      }
    </QueryView>
  );
}
