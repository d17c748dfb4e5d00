import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
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

/**
 * The budgets the gateway counts per client address (GatewayRateLimiter.SharedBucket), whoever is signed in: a hold on
 * one stays when another user signs in at this browser, whose requests would be refused as well. The others
 * ("requests", "order") are counted per signed-in user: a hold on one is that user's, and another user's start free.
 */
const PER_ADDRESS: ReadonlySet<Budget> = new Set<Budget>(["account-change", "sign-in", "register"]);

/** Whose budget: the signed-in user (by id), or nobody (the gateway then counts by address). */
type Owner = string;
const NOBODY: Owner = "";

/** The key of a budget's hold: the budget, and for a budget counted per user, the user whose it is. */
const budgetKey = (budget: Budget, owner: Owner) => (PER_ADDRESS.has(budget) ? budget : `${budget}\u0000user\u0000${owner}`);

interface Hold {
  until: number;
}

/**
 * An email as Users keys an account by it (Shop.Users' User.Normalize: trimmed, lower-cased), so " Bob@Example.com"
 * and "bob@example.com" are one account's scope.
 */
export function accountScope(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * Users' own refusal of password guesses (Shop.Users' SessionsApi.Throttled: "Too many sign-in attempts"), not the
 * gateway's ("Too many requests", per path and address). It locks mostly one account (the email), so it holds only
 * while the request is for that account again (`scope`); any other 429 holds the whole budget.
 */
function isAccountLockout(error: ApiError): boolean {
  return error.problem?.title === "Too many sign-in attempts";
}

/** The holds are kept per budget, and per budget and account (a lockout): this is the key of the latter. */
const scoped = (budget: Budget, scope: string) => `${budget}\u0000${scope}`;

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
  /** By budget and, where it is counted per user, its user (`budgetKey`), or by budget and account (`scoped`). */
  holds: Record<string, Hold>;
  holdFor: (key: string, error: unknown) => void;
}

function useHolds(): Holds {
  const [holds, setHolds] = useState<Record<string, Hold>>({});
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
  const holdFor = useCallback((key: string, error: unknown) => {
    const pause = error instanceof ApiError ? retryAfterSeconds(error.retryAfter) : null;
    if (pause) setHolds((now) => ({ ...now, [key]: { until: Date.now() + pause * 1000 } }));
  }, []);
  return useMemo(() => ({ holds, holdFor }), [holds, holdFor]);
}

const HoldsContext = createContext<(Holds & { owner: Owner }) | null>(null);

/**
 * The app's holds, one per budget, shared by every control under it (main.tsx puts it around the app, inside auth).
 * A budget counted per user is held for the user whose request was refused (`owner`): the next user signed in here
 * starts free, and a 429 that answers the last user's request after they signed out holds nothing of theirs (that user,
 * back before it ends, finds it again, as the gateway's bucket is). A budget counted per address stays held for whoever
 * signs in (PER_ADDRESS).
 */
export function HoldsProvider({ children }: { children: ReactNode }) {
  const { user } = useAuth();
  const { holds, holdFor } = useHolds();
  const owner = user ? String(user.id) : NOBODY;
  // A read draws from the general budget too: the gateway counts every GET in its Requests bucket, per signed-in user,
  // as it does every write but sign-in, registration, one's own account changes and placing an order. A read's 429
  // then holds the writes on "requests" (admin writes, Cancel order, Sign out everywhere), which it would refuse as well.
  // (A read whose token refresh was refused with a 429 fails with that 429, of the refresh budget: so does every write
  // until a refresh is let through, which its Retry-After says, so it holds them as truly.) A user's reads cannot
  // answer after they signed out: signing in or out empties the query cache, which cancels them.
  const queryClient = useQueryClient();
  useEffect(
    () =>
      queryClient.getQueryCache().subscribe((event) => {
        if (event.type !== "updated" || event.action.type !== "error") return;
        const { error } = event.action;
        if (error instanceof ApiError && error.status === 429) holdFor(budgetKey("requests", owner), error);
      }),
    [queryClient, holdFor, owner],
  );
  const value = useMemo(() => ({ holds, holdFor, owner }), [holds, holdFor, owner]);
  return <HoldsContext.Provider value={value}>{children}</HoldsContext.Provider>;
}

/**
 * Holds a control once an answer carried a Retry-After, until then: a press before it can only be refused again, and at
 * sign-in each refused press counts toward the lockout. A 429 holds every control of the app that draws from `budget`
 * (without a HoldsProvider, a component rendered alone: this control only); another Retry-After (a 503, a 409 still in
 * progress) holds this control only. `holdFor(error)` starts the hold when the error says how long; `held` is true
 * until it ends;
 * `reason`, what the held button says (heldWords). useSubmitMutation holds every press's request with it, so each form waits the same way.
 *
 * `scope`: the account the control's request is for now (accountScope of the Email field), where Users may lock one
 * account (sign-in). Users' lockout then holds only while the scope is the one the refused request was for
 * (`holdFor(error, scope)`): a shopper who locked a mistyped email, or whose email a stranger locked, can still sign in
 * with theirs. The gateway's 429 refuses every email from this address alike, and holds whatever the scope.
 *
 * `owner`: who is signed in now. A request's answer may come after they signed out: `holdFor`'s `sentBy` is the owner
 * when it was sent (useSubmitMutation keeps it), so that its 429 holds their budget, not the next user's.
 */
export function useRetryAfterHold(
  budget: Budget = "requests",
  scope?: string,
): { held: boolean; reason: string | null; owner: Owner; holdFor: (error: unknown, scope?: string, sentBy?: Owner) => void } {
  const own = useHolds();
  const app = useContext(HoldsContext);
  const shared = app ?? own;
  const owner = app?.owner ?? NOBODY;
  // Only a 429 spent the budget. Another Retry-After (a 503 for one service or its database away, an order still being
  // placed) is about this request's own service: it holds this control, not every write of the app on the budget.
  const hold = [shared.holds[budgetKey(budget, owner)], scope === undefined ? undefined : shared.holds[scoped(budget, scope)], own.holds[budget]]
    .reduce<Hold | undefined>((a, b) => (a && b ? (a.until > b.until ? a : b) : (a ?? b)), undefined);
  const holdFor = useCallback(
    (error: unknown, requestScope?: string, sentBy: Owner = owner) => {
      if (!(error instanceof ApiError) || error.status !== 429) return own.holdFor(budget, error);
      // Users says the same words whether it locked the account or this address (several accounts tried from it): a
      // lockout of the address then holds the next email only once Users refuses it too. That costs one refused press
      // per email tried, each of which Users would have refused anyway, and never holds an email Users did not refuse.
      if (requestScope !== undefined && isAccountLockout(error)) return shared.holdFor(scoped(budget, requestScope), error);
      return shared.holdFor(budgetKey(budget, sentBy), error);
    },
    [shared.holdFor, own.holdFor, budget, owner],
  );
  return { held: hold !== undefined, reason: hold ? heldWords(hold.until) : null, owner, holdFor };
}
