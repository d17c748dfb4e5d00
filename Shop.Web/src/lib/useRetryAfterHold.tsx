import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { ApiError, retryAfterSeconds } from "../api/errors";
import { useAuth } from "../auth/AuthContext";

// setTimeout fires at once for a delay past this (about 24.8 days): a longer hold is cut to it.
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/**
 * The gateway's budget a write draws from (Shop.Gateway's GatewayRateLimiter): a 429 from one means every write that
 * draws from it would be refused too, whichever button sends it. "requests": the general budget, per signed-in user
 * (every admin write, Sign out everywhere); "account-change": a change of one's own account (profile, password), per
 * address; "order": placing an order, per user; "sign-in" and "register": per path and address.
 */
export type Budget = "requests" | "account-change" | "order" | "sign-in" | "register";

interface Hold {
  until: number;
}

/**
 * What every held button shows and is described by: when it can be sent again, a time of day (the minute after the
 * hold ends), which stays true as time passes, unlike "in 14 minutes", and does not need the refusal's alert in sight
 * (a button on the same budget elsewhere is held too).
 */
export function heldWords(until: number): string {
  const time = new Date(Math.ceil(until / 60_000) * 60_000).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  return `The shop asked to wait: try again at ${time}.`;
}

interface Holds {
  holds: Partial<Record<Budget, Hold>>;
  holdFor: (budget: Budget, error: unknown) => void;
}

/** `owner`: whose holds they are (the signed-in user); another owner's start empty. */
function useHolds(owner: unknown = null): Holds {
  const [kept, setHolds] = useState<Partial<Record<Budget, Hold>>>({});
  const [keptFor, setKeptFor] = useState(owner);
  if (keptFor !== owner) {
    // Adjusted while rendering (React's way to reset state on a prop's change), not by remounting the app below.
    setKeptFor(owner);
    setHolds({});
  }
  const holds = keptFor === owner ? kept : {};
  // One timer, for the hold that ends first; each end drops what has ended and sets the next.
  useEffect(() => {
    const ends = Object.values(holds).map((hold) => hold.until);
    if (ends.length === 0) return;
    const timer = setTimeout(
      () => setHolds((now) => Object.fromEntries(Object.entries(now).filter(([, hold]) => hold.until > Date.now()))),
      Math.min(LONGEST_TIMER_MS, Math.max(0, Math.min(...ends) - Date.now())),
    );
    return () => clearTimeout(timer);
  }, [holds]);
  const holdFor = useCallback((budget: Budget, error: unknown) => {
    const pause = error instanceof ApiError ? retryAfterSeconds(error.retryAfter) : null;
    if (pause) setHolds((now) => ({ ...now, [budget]: { until: Date.now() + pause * 1000 } }));
  }, []);
  return useMemo(() => ({ holds, holdFor }), [holds, holdFor]);
}

const HoldsContext = createContext<Holds | null>(null);

/**
 * The app's holds, one per budget, shared by every control under it (main.tsx puts it around the app, inside auth).
 * Started again for each signed-in user: the budgets of writes are counted per user.
 */
export function HoldsProvider({ children }: { children: ReactNode }) {
  const { user } = useAuth();
  return <HoldsContext.Provider value={useHolds(user?.id ?? null)}>{children}</HoldsContext.Provider>;
}

/**
 * Holds a control once an answer carried a Retry-After, until then: a press before it can only be refused again, and at
 * sign-in each refused press counts toward the lockout. A 429 holds every control of the app that draws from `budget`
 * (without a HoldsProvider, a component rendered alone: this control only); another Retry-After (a 503, a 409 still in
 * progress) holds this control only. `holdFor(error)` starts the hold when the error says how long; `held` is true
 * until it ends;
 * `reason`, what the held button says (heldWords). useSubmitMutation holds every press's request with it, so each form waits the same way.
 */
export function useRetryAfterHold(budget: Budget = "requests"): { held: boolean; reason: string | null; holdFor: (error: unknown) => void } {
  const own = useHolds();
  const shared = useContext(HoldsContext) ?? own;
  // Only a 429 spent the budget. Another Retry-After (a 503 for one service or its database away, an order still being
  // placed) is about this request's own service: it holds this control, not every write of the app on the budget.
  const hold = [shared.holds[budget], own.holds[budget]].reduce<Hold | undefined>((a, b) => (a && b ? (a.until > b.until ? a : b) : (a ?? b)), undefined);
  const holdFor = useCallback(
    (error: unknown) => (error instanceof ApiError && error.status === 429 ? shared.holdFor : own.holdFor)(budget, error),
    [shared.holdFor, own.holdFor, budget],
  );
  return { held: hold !== undefined, reason: hold ? heldWords(hold.until) : null, holdFor };
}
