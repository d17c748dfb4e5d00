import { useState } from "react";
import type { Paged } from "../api/types";

/**
 * The count of the last page read, kept when a new page, search or filter then fails (its data is undefined): the
 * pager stays with it, a way back to pages that could be read. Shared by every paged list (PagedTable, the catalogue).
 */
export function useLastTotal(page: Paged<unknown> | undefined): number | undefined {
  // Adjusted while rendering (as QuantityInput's draft), so the render that shows the failure already has it.
  const [total, setTotal] = useState(page?.total);
  if (page && page.total !== total) setTotal(page.total);
  return page?.total ?? total;
}
