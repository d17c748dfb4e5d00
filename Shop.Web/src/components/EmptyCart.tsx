import { useLayoutEffect, useRef } from "react";
import { Link } from "react-router";
import { focusStillIn } from "../lib/focus";
import { EmptyState, PageHeader } from "./ui";

/**
 * What the cart and the checkout show when there is nothing in the cart. `takeFocus`: the cart was emptied here, by a
 * control that went with its lines (Remove, Empty cart); the words take focus, if it fell to the page, so a keyboard
 * user is not left at <body> and a screen reader says the cart is empty. Opened empty, it leaves focus alone.
 */
export function EmptyCart({ title, takeFocus = false }: { title: string; takeFocus?: boolean }) {
  const words = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    if (takeFocus && focusStillIn(null)) words.current?.focus();
  }, [takeFocus]);
  return (
    <>
      <PageHeader title={title} />
      <div ref={words} tabIndex={-1} className="outline-none">
        <EmptyState title="Your cart is empty">
          <Link to="/catalog" className="font-medium text-indigo-700 hover:underline">
            Browse the catalogue
          </Link>
        </EmptyState>
      </div>
    </>
  );
}
