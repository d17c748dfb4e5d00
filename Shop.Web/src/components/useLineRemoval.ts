import { useRef } from "react";
import type { CartLine } from "../lib/cart";
import { focusNeighbour, focusStillIn } from "../lib/focus";
import { useCart } from "../lib/useCart";
import { useAnnounce } from "./Announcer";

/**
 * Removing a cart line takes the control pressed with it (Remove, the quantity field) and a keyboard user's focus down
 * to the page. `removeLine`: focus goes on to the first control of the next item (else the one before; else
 * `otherwise`, what comes next on the page) and what went is said by the app's live region. The last line's removal,
 * and Empty cart (`emptying`), leave the words that the cart is empty in the lines' place: `emptiedHere` says so to
 * EmptyCart, whose words then take focus. `item`: the line's row, with the control pressed in it.
 */
export function useLineRemoval() {
  const { cart, remove, clear } = useCart();
  const announce = useAnnounce();
  const emptiedHere = useRef(false);
  function removeLine(line: CartLine, item: Element | null, otherwise?: HTMLElement | null) {
    if (cart.length > 1) {
      if (!focusNeighbour(item) && focusStillIn(item)) otherwise?.focus();
      announce(`${line.name} removed from your cart.`);
    } else {
      emptiedHere.current = focusStillIn(item);
    }
    remove(line.sku);
  }
  function emptying(pressed: Element) {
    emptiedHere.current = focusStillIn(pressed);
    clear();
  }
  return { removeLine, emptying, emptiedHere };
}
