import { useEffect, type ReactNode } from "react";
import type { UseQueryResult } from "@tanstack/react-query";
import { errorMessage } from "../api/errors";
import { useRetryAfterHold } from "../lib/useRetryAfterHold";
import { Alert, ErrorAlert, SendButton } from "./ui";

/**
 * What a query has to show: `loading` until its first answer, the error in place of the content when there is nothing
 * to show, else the content. A re-read that fails after data came (React Query v5 keeps the data but sets isError)
 * leaves the content where it is, with a note above it: taking it away would close what the user had open there.
 * A first read that failed (also of a new page, search or filter, whose previous results keepPreviousData drops then)
 * offers Try again, and `keep` (a list's pager) stays below it as a way back. Try again is held while the shop has said
 * to wait: a read's 429 (the general budget, which every read and most writes draw from) and a Retry-After of its own
 * (a 503), as every button that would only be refused again is.
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
  const { held, reason, holdFor } = useRetryAfterHold();
  const { error } = query;
  useEffect(() => {
    if (error) holdFor(error);
  }, [error, holdFor]);
  if (query.data === undefined) {
    if (!query.isError) return <>{loading}</>;
    const tryAgain = (
      // Its words come before it when held (SendButton), so the row wraps them on a narrow screen.
      <div className="mt-3 flex flex-wrap items-center gap-x-3 gap-y-1">
        <SendButton variant="secondary" onClick={() => void query.refetch()} request={{ isPending: query.isFetching, held, holdReason: reason, error }}>
          Try again
        </SendButton>
      </div>
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
