import { useLayoutEffect, type RefObject } from "react";

/**
 * Focus `ref` each time `when` becomes something new (a message just shown, an error just got): for words that say
 * what an action did, when the control that did it goes away with the outcome and would take focus down to <body>.
 * Focus lands on the words, so a screen reader reads them as it lands. In a layout effect: before the browser paints,
 * so no keystroke can reach the page in between (a passive effect may run after one).
 */
export function useTakeFocus(ref: RefObject<HTMLElement | null>, when: unknown): void {
  useLayoutEffect(() => {
    if (when) ref.current?.focus();
  }, [ref, when]);
}
