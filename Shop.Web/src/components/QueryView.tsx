import type { ReactNode } from "react";
import type { UseQueryResult } from "@tanstack/react-query";
import { errorMessage } from "../api/errors";
import { Alert, Button, ErrorAlert } from "./ui";

/**
 * What a query has to show: `loading` until its first answer, the error in place of the content when there is nothing
 * to show, else the content. A re-read that fails after data came (React Query v5 keeps the data but sets isError)
 * leaves the content where it is, with a note above it: taking it away would close what the user had open there.
 * A first read that failed (also of a new page, search or filter, whose previous results keepPreviousData drops then)
 * offers Try again, and `keep` (a list's pager) stays below it as a way back.
 */
export function QueryView<T>({
  query,
  loading,
  what,
  className,
  failed = (error, tryAgain) => (
    <>
      <ErrorAlert error={error} className={className} />
      {tryAgain}
    </>
  ),
  keep,
  children,
}: {
  query: UseQueryResult<T>;
  loading: ReactNode;
  /** What the query reads, for the note: "the orders", "this order". */
  what: string;
  /** For the alerts, where they stand in the page. */
  className?: string;
  /** The page shown when the first read failed, if not the error and Try again (`tryAgain`). */
  failed?: (error: unknown, tryAgain: ReactNode) => ReactNode;
  /** What stays below a failed first read: the pager of the list that was shown. */
  keep?: ReactNode;
  children: (data: T) => ReactNode;
}) {
  if (query.data === undefined) {
    if (!query.isError) return <>{loading}</>;
    const tryAgain = (
      // Focusable while busy: a disabled button would drop a keyboard user's focus to the page.
      <Button
        variant="secondary"
        className="mt-3"
        onClick={() => void query.refetch()}
        disabled={query.isFetching}
        focusableWhenDisabled
        busy={query.isFetching}
      >
        Try again
      </Button>
    );
    return (
      <>
        {failed(query.error, tryAgain)}
        {keep}
      </>
    );
  }
  return (
    <>
      {query.isError ? (
        <Alert tone="warn" className={className}>
          Could not refresh {what}, so what is shown may be out of date. {errorMessage(query.error)}
        </Alert>
      ) : null}
      {children(query.data)}
    </>
  );
}
