import { useCallback, useLayoutEffect, useRef, useState, type RefObject } from "react";

/**
 * Focus `ref` each time `when` becomes something new (a message just shown, an error just got): for words that say
 * what an action did, when the control that did it goes away with the outcome and would take focus down to <body>.
 * Focus lands on the words, so a screen reader reads them as it lands. In a layout effect: before the browser paints,
 * so no keystroke can reach the page in between (a passive effect may run after one). `from`: the part of the page
 * whose control acted, when that is known only as the words come; they take focus only if it is still there
 * (focusStillIn).
 */
export function useTakeFocus(ref: RefObject<HTMLElement | null>, when: unknown, from?: RefObject<Element | null>): void {
  useLayoutEffect(() => {
    if (when && (!from || focusStillIn(from.current))) ref.current?.focus();
  }, [ref, when, from]);
}

/**
 * Whether focus is still where the user acted: in `place` (the row or part of the page whose control was pressed), or
 * on <body>, where it fell if that control went. Focus the user has taken elsewhere meanwhile is theirs: an outcome
 * that arrives later does not move it.
 */
export function focusStillIn(place: Element | null): boolean {
  const active = document.activeElement;
  return !active || active === document.body || Boolean(place?.contains(active));
}

/**
 * State whose change puts one control in the place of another that may have focus (Delete and Confirm delete, Edit and
 * its editor): after each change made with the setter returned, focus goes to `front(state)`, the control now in
 * front, if it fell to <body> with the control that went (focus the user has put elsewhere stays there). In a layout
 * effect, before a keystroke could reach the page.
 */
export function useSwap<T>(initial: T, front: (state: T) => HTMLElement | null): [T, (to: T) => void] {
  const [state, setState] = useState(initial);
  const swapped = useRef(false);
  const swap = useCallback((to: T) => {
    swapped.current = true;
    setState(to);
  }, []);
  const inFront = useRef(front);
  inFront.current = front;
  useLayoutEffect(() => {
    if (!swapped.current) return;
    swapped.current = false;
    if (focusStillIn(null)) inFront.current(state)?.focus(); // on <body>: nowhere else the user put it
  }, [state]);
  return [state, swap];
}

const controls =
  "a[href], button:not(:disabled), input:not(:disabled), select:not(:disabled), textarea:not(:disabled), [tabindex]:not([tabindex='-1'])";

/**
 * For an item about to go (a deleted row or card) with focus still in it (focusStillIn): focus moves now to the first
 * control of the item after it, else of the one before it, where a keyboard user carries on down the list. Called
 * before it goes, while its neighbours are known. False when focus did not move (the item is alone, or the user is
 * elsewhere): then the words saying what happened are given `focusFrom: item` (useNotice), and take it if it is ours.
 */
export function focusNeighbour(item: Element | null): boolean {
  if (!focusStillIn(item)) return false;
  for (const other of [item?.nextElementSibling, item?.previousElementSibling]) {
    const control = other?.querySelector<HTMLElement>(controls);
    if (control) {
      control.focus();
      return true;
    }
  }
  return false;
}
