import { useEffect, useRef } from "react";
import type { Paged } from "../api/types";

/**
 * A page past the end (its last rows deleted, or filtered away by a change) moves to the last page there is,
 * rather than showing "empty" with no pager to go back by. Shared by every paged list (PagedTable, the catalogue).
 * Returns whether it is on its way there: the list then says it is loading, not that it is empty, since rows exist.
 */
export function useBackFromPastTheEnd(
  page: Paged<unknown> | undefined,
  size: number,
  offset: number,
  onChange: (offset: number) => void,
): boolean {
  // Null when there is nowhere to move: a page the count says is there but that came back without rows (a delete
  // between the count and the rows) stays, showing "empty", rather than "loading" until the next refetch. Compared
  // with the offset the page was read at: while the earlier page loads, the one shown is still the old one.
  const target = page && page.items.length === 0 && offset > 0 ? Math.max(0, Math.floor((page.total - 1) / size) * size) : null;
  const lastOffset = target === page?.offset ? null : target;
  // Once per page found past the end, whatever function the caller passes each render.
  const change = useRef(onChange);
  change.current = onChange;
  useEffect(() => {
    if (lastOffset !== null) change.current(lastOffset);
  }, [lastOffset]);
  return lastOffset !== null;
}
