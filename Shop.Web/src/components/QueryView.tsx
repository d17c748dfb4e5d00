import type { ReactNode } from "react";
import type { UseQueryResult } from "@tanstack/react-query";
import { errorMessage } from "../api/errors";
import { Alert, ErrorAlert } from "./ui";

/**
 * What a query has to show: `loading` until its first answer, the error in place of the content when there is nothing
 * to show, else the content. A re-read that fails after data came (React Query v5 keeps the data but sets isError)
 * leaves the content where it is, with a note above it: taking it away would close what the user had open there.
 */
export function QueryView<T>({
  query,
  loading,
  what,
  className,
  failed = (error) => <ErrorAlert error={error} className={className} />,
  children,
}: {
  query: UseQueryResult<T>;
  loading: ReactNode;
  /** What the query reads, for the note: "the orders", "this order". */
  what: string;
  /** For the alerts, where they stand in the page. */
  className?: string;
  /** The page shown when the first read failed, if not the error alone. */
  failed?: (error: unknown) => ReactNode;
  children: (data: T) => ReactNode;
}) {
  if (query.data === undefined) return <>{query.isError ? failed(query.error) : loading}</>;
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
