import { useCallback, useEffect, useState } from "react";
import { ApiError, retryAfterSeconds } from "../api/errors";

// setTimeout fires at once for a delay past this (about 24.8 days): a longer hold is cut to it.
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/**
 * Holds the control that sent a request whose answer carried a Retry-After (a 429, a 409 still in progress) until
 * then: a press before it can only be refused again, and at sign-in each refused press counts toward the lockout.
 * `holdFor(error)` starts the hold when the error says how long; `held` is true until it ends. useSubmitMutation holds
 * every press's request with it, so each form waits the same way.
 */
export function useRetryAfterHold(): { held: boolean; holdFor: (error: unknown) => void } {
  const [until, setUntil] = useState<number | null>(null);
  useEffect(() => {
    if (until === null) return;
    const timer = setTimeout(() => setUntil(null), Math.min(LONGEST_TIMER_MS, Math.max(0, until - Date.now())));
    return () => clearTimeout(timer);
  }, [until]);
  const holdFor = useCallback((error: unknown) => {
    const pause = error instanceof ApiError ? retryAfterSeconds(error.retryAfter) : null;
    if (pause) setUntil(Date.now() + pause * 1000);
  }, []);
  return { held: until !== null, holdFor };
}
