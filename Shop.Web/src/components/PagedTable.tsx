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
  pages: Pages;
  /** For a list re-read on a timer: its new results are said when the user pages, not whenever it moves on its own. */
  announcePageChangesOnly?: boolean;
}) {
  const { movingBack, pager, keep } = usePagedList(query, queryKey, pages, { announcePageChangesOnly });
  const loading = <Loading label={loadingLabel} />;

  if (movingBack) return loading;
  return (
    <QueryView query={query} loading={loading} what={what} keep={keep}>
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

/** A paged list's page size, its offset, how to move to another offset, and its pager's name. */
export interface Pages {
  size: number;
  offset: number;
  onChange: (offset: number) => void;
  label: string;
}

/**
 * What every paged list does around its rows (PagedTable's table, the catalogue's grid): move back from a page past
 * the end (`movingBack`: show loading meanwhile), say new results (not the previous ones kept on screen while a new
 * query's load, which answer the old one), and a pager (`pager(total)` under the rows; `keep`, for QueryView, with
 * the last total known when a new page, search or filter fails).
 */
export function usePagedList<T>(
  query: UseQueryResult<Paged<T>>,
  queryKey: QueryKey,
  pages: Pages,
  { announcePageChangesOnly = false } = {},
): { movingBack: boolean; pager: (total: number) => ReactNode; keep: ReactNode } {
  const movingBack = useBackFromPastTheEnd(query.data, pages.size, pages.offset, pages.onChange);
  const total = useLastTotal(query.data);
  const pager = (count: number) => (
    <Pagination total={count} limit={pages.size} offset={pages.offset} onChange={pages.onChange} label={pages.label} />
  );
  useAnnounceResults(movingBack || query.isPlaceholderData ? undefined : query.data, queryKey, { pageChangesOnly: announcePageChangesOnly });
  return { movingBack, pager, keep: total !== undefined && pager(total) };
}
