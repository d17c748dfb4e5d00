import { useCallback, useRef, useState } from "react";
import { useMutation, type DefaultError, type UseMutationOptions, type UseMutationResult } from "@tanstack/react-query";
import { useRetryAfterHold, type Budget } from "./useRetryAfterHold";

/** A mutation sent by a user's press: `submit` sends it, and nothing else does (no `mutate`, which has no guard). */
export type SubmitMutation<TData, TVariables> = Omit<UseMutationResult<TData, DefaultError, TVariables>, "mutate" | "mutateAsync"> & {
  /**
   * Sends the request, unless the one sent before is still on its way, or the shop said to wait (`held`): then
   * nothing, and false.
   */
  submit: (variables: TVariables) => boolean;
  /**
   * An answer on the same budget carried a Retry-After (a 429, an order still being placed) that has not passed yet:
   * this request's, or another control's on that budget.
   */
  held: boolean;
  /** While held: what the held button shows and is described by (heldWords), the same for every button. */
  holdReason: string | null;
};

/**
 * useMutation for a request a press sends (a form's submit, a button): a second press while the first request is on
 * its way is refused. React Query's own `isPending` cannot guard it: React sees it only after React Query has
 * scheduled the update, so two presses in one task (Enter pressed twice, a double click on a busy page) both find it
 * false, and a sign-in would count twice toward the lockout, an "Add item" answer 409 for the item it just made.
 *
 * `isPending` here is true from the press until the request settles: rendered with the press itself, so the next
 * press finds the controls it should (a Cancel beside Save) unavailable, and kept through a `reset()` meanwhile, which
 * forgets the request but cannot call it back (its outcome still comes, to the mutation's own callbacks).
 *
 * An answer with a Retry-After holds the sending until then (useRetryAfterHold), for every form alike: a press before
 * it could only be refused again, and at sign-in each refused press counts toward the lockout. The hold is the
 * budget's (`budget`: the gateway's bucket the request draws from; the general one unless said), so every control
 * drawing from it waits, not only the one refused. `account`, where Users may lock one account (sign-in): the account
 * the form's request is for now (`current`, accountScope of its email) and the one a request sent was for (`of`), so
 * that Users' lockout holds that account's requests only (useRetryAfterHold's `scope`).
 */
export function useSubmitMutation<TData, TVariables = void>({
  budget,
  account,
  ...options
}: UseMutationOptions<TData, DefaultError, TVariables> & {
  budget?: Budget;
  account?: { current: string; of: (variables: TVariables) => string };
}): SubmitMutation<TData, TVariables> {
  // Set in the same task as the press, so the next press sees it whatever React has rendered meanwhile.
  const inFlight = useRef(false);
  const [sending, setSending] = useState(false);
  const { held, reason, owner, holdFor } = useRetryAfterHold(budget, account?.current);
  // Whose budget the request drew from is who sent it: its answer may come after they signed out and another signed in.
  const sentBy = useRef(owner);
  const mutation = useMutation<TData, DefaultError, TVariables>({
    ...options,
    onError: (...failed) => {
      holdFor(failed[0], account?.of(failed[1]), sentBy.current);
      return options.onError?.(...failed);
    },
    // The mutation's own options run even if the form has gone meanwhile, unlike mutate()'s.
    onSettled: (...settled) => {
      inFlight.current = false;
      setSending(false);
      return options.onSettled?.(...settled);
    },
  });
  const { mutate } = mutation;
  const submit = useCallback(
    (variables: TVariables) => {
      if (inFlight.current || held) return false;
      inFlight.current = true;
      sentBy.current = owner;
      setSending(true);
      mutate(variables);
      return true;
    },
    [mutate, held, owner],
  );
  return { ...mutation, isPending: mutation.isPending || sending, held, holdReason: reason, submit };
}
