import { useEffect, useRef } from "react";
import { useQueries } from "@tanstack/react-query";
import { Link } from "react-router";
import { api } from "../api/client";
import { queryKeys } from "../api/queries";
import { useAuth } from "../auth/AuthContext";
import { QuantityInput } from "../components/QuantityInput";
import { EmptyCart } from "../components/EmptyCart";
import { useLineRemoval } from "../components/useLineRemoval";
import { Button, Card, PageHeader } from "../components/ui";
import { cartCount, cartTotal, lineTotal, roomFor, type CartLine } from "../lib/cart";
import { formatMoney } from "../lib/format";
import { useCart } from "../lib/useCart";

export default function CartPage() {
  const { cart, setQty, takeStock } = useCart();
  const { user } = useAuth();
  const count = cartCount(cart);
  // Each line's stock was read when it was added, and caps what it may hold: read it anew, so a restock since lets the
  // shopper add more (else "+" stayed off and "Only 2 in stock." was said of 50) and a fall is said here, not only at
  // checkout. Signed in only (Inventory answers no one else); a read that fails leaves the line as it was.
  const today = useQueries({
    queries: cart.map((line) => ({
      queryKey: queryKeys.item(line.sku),
      queryFn: () => api.getItem(line.sku),
      staleTime: 0,
      enabled: user !== null,
    })),
  });
  const readsKey = today.map((q) => q.dataUpdatedAt).join("|");
  useEffect(() => {
    const items = today.flatMap((q) => (q.data ? [q.data] : []));
    if (items.length) takeStock(items);
    // readsKey stands for the reads: a new array each render, the same contents.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [readsKey, takeStock]);

  // A line removed keeps a keyboard user's focus on the page (useLineRemoval). Its row, by sku: a quantity typed as 0
  // removes it too, with no element of the press to go by.
  const { removeLine, emptying, emptiedHere } = useLineRemoval();
  const items = useRef(new Map<string, HTMLLIElement>());
  const removeAt = (line: CartLine) => removeLine(line, items.current.get(line.sku) ?? null);

  if (cart.length === 0) {
    return <EmptyCart title="Cart" takeFocus={emptiedHere.current} />;
  }

  return (
    <>
      <PageHeader
        title="Cart"
        subtitle={`${count} item${count === 1 ? "" : "s"}`}
        actions={
          <Button
            variant="ghost"
            size="sm"
            onClick={(e) => emptying(e.currentTarget)}
          >
            Empty cart
          </Button>
        }
      />
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-3">
        <Card className="lg:col-span-2">
          <ul className="divide-y divide-stone-100">
            {cart.map((line) => (
              <li
                key={line.sku}
                ref={(li) => {
                  if (li) items.current.set(line.sku, li);
                  else items.current.delete(line.sku);
                }}
                className="flex flex-col gap-3 p-4 sm:flex-row sm:items-center sm:gap-4"
              >
                <div className="min-w-0 flex-1">
                  <p className="truncate font-medium text-stone-900">{line.name}</p>
                  <p className="text-xs text-stone-500">
                    <span className="font-mono break-all">{line.sku}</span> · {formatMoney(line.price)} each
                  </p>
                </div>
                <div className="flex items-center justify-between gap-4 sm:justify-end">
                  <QuantityInput
                    value={line.qty}
                    max={line.stock}
                    room={roomFor(cart, line.sku)}
                    label={`quantity of ${line.name}`}
                    onChange={(q) => (q > 0 ? setQty(line.sku, q) : removeAt(line))}
                  />
                  <p className="w-24 text-right font-medium text-stone-900" aria-label={`Line total for ${line.name}`}>
                    {formatMoney(lineTotal(line))}
                  </p>
                  <Button variant="ghost" size="sm" aria-label={`Remove ${line.name}`} onClick={() => removeAt(line)}>
                    Remove
                  </Button>
                </div>
              </li>
            ))}
          </ul>
        </Card>
        <Card className="h-fit p-5">
          <h2 className="font-medium text-stone-900">Summary</h2>
          <dl className="mt-4 space-y-2 text-sm">
            <div className="flex justify-between text-stone-600">
              <dt>Items</dt>
              <dd>{count}</dd>
            </div>
            <div className="flex justify-between border-t border-stone-100 pt-2 text-base font-semibold text-stone-900">
              <dt>Total</dt>
              <dd data-testid="cart-total">{formatMoney(cartTotal(cart))}</dd>
            </div>
          </dl>
          <p className="mt-2 text-xs text-stone-500">Prices are confirmed when you place the order.</p>
          <Link
            to={user ? "/checkout" : "/signin"}
            state={user ? undefined : { from: "/checkout" }}
            className="mt-5 block rounded-lg bg-indigo-600 px-4 py-2 text-center text-sm font-medium text-white shadow-sm hover:bg-indigo-500"
          >
            {user ? "Go to checkout" : "Sign in to check out"}
          </Link>
        </Card>
      </div>
    </>
  );
}
