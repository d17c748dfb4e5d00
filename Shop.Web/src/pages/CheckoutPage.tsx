import { useEffect, useId, useRef, useState } from "react";
import { useQueries, useQueryClient, type UseQueryResult } from "@tanstack/react-query";
import { Link, useNavigate } from "react-router";
import { api } from "../api/client";
import { ApiError, errorMessage, isProblem } from "../api/errors";
import { queryKeys } from "../api/queries";
import type { InventoryItem, Order, OrderRequest } from "../api/types";
import { EmptyCart } from "../components/EmptyCart";
import { useLineRemoval } from "../components/useLineRemoval";
import { LineItemsTable } from "../components/LineItemsTable";
import { Alert, Button, Card, ErrorAlert, PageHeader } from "../components/ui";
import {
  MAX_UNITS_PER_ORDER,
  cartCount,
  cartTotal,
  lineTotal,
  toOrderRequest,
  unitsCapNote,
  withCurrentItems,
  type CartLine,
  type PriceChange,
} from "../lib/cart";
import { formatMoney } from "../lib/format";
import { getSession } from "../api/session";
import { chooseAttempt, endAttempt, fingerprintOf, keepKeyAfterError } from "../lib/idempotency";
import { currentCart, useCart } from "../lib/useCart";
import { useSubmitMutation } from "../lib/useSubmitMutation";

/**
 * A line as today's read of its item finds it: the read under way, the item gone from the shop (404), the read
 * failed for now, out of stock, fewer in stock than the line holds, or fine.
 */
type LineState = "checking" | "gone" | "failed" | "soldOut" | "short" | "ok";

function stateOf(line: CartLine, query: UseQueryResult<InventoryItem>): LineState {
  // A read again (after a 409, or Check again) counts as under way: what is shown may be about to change.
  if (query.isPending || query.isFetching) return "checking";
  if (query.error) return query.error instanceof ApiError && query.error.status === 404 ? "gone" : "failed";
  const stock = query.data?.qty;
  if (stock === 0) return "soldOut";
  return stock !== undefined && line.qty > stock ? "short" : "ok";
}

/** The line's problem in words, as the order summary marks it. */
function problemOf(state: LineState, stock: number | undefined): string | undefined {
  switch (state) {
    case "gone":
      return "No longer sold — remove it to continue";
    case "failed":
      return "Could not check today's price";
    case "soldOut":
      return "Out of stock — remove it to continue";
    case "short":
      return `Only ${stock} in stock — lower the quantity`;
    default:
      return undefined;
  }
}

export default function CheckoutPage() {
  const { cart, clear, refresh } = useCart();
  // A gone or sold-out line removed from the keyboard: focus goes on to the next Remove, else Place order (useLineRemoval).
  const { removeLine, emptiedHere } = useLineRemoval();
  const placeButton = useRef<HTMLButtonElement>(null);
  // The cart keeps the prices seen when each item was added; the order is charged at today's. Read them again
  // here, take them into the cart, and say which changed, so the total shown is the total charged.
  const current = useQueries({
    queries: cart.map((line) => ({ queryKey: queryKeys.item(line.sku), queryFn: () => api.getItem(line.sku), staleTime: 0 })),
  });
  const [priceChanges, setPriceChanges] = useState<PriceChange[]>([]);
  const fetched = current.flatMap((q) => (q.data ? [q.data] : []));
  // Each read taken into the cart once, when it arrives (a re-read with the same figures too).
  const readsKey = current.map((q) => q.dataUpdatedAt).join("|");
  useEffect(() => {
    if (fetched.length === 0) return;
    const changes = refresh(fetched);
    if (changes.length) setPriceChanges((seen) => [...seen.filter((c) => !changes.some((n) => n.sku === c.sku)), ...changes]);
    // readsKey stands for the fetched items: a new array each render, the same contents.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [readsKey, refresh]);
  // The cart written since by another tab (its own checkout, with reads older or newer than these) is read again,
  // not written back: two checkouts writing back each other's figures would do so without end. The cart as stored
  // now is compared, since this render's reads may just have been written above.
  useEffect(() => {
    if (fetched.length === 0 || current.some((q) => q.isFetching)) return;
    if (withCurrentItems(currentCart(), fetched).changed) current.forEach((q) => void q.refetch());
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [cart, readsKey]);
  const states = cart.map((line, i) => stateOf(line, current[i]));
  const units = cartCount(cart);
  // Today's prices are read in one render and taken into the cart by the effect after it: until then the page
  // still shows the old ones.
  const takenIn = !withCurrentItems(cart, fetched).changed;
  const checking = !takenIn || states.includes("checking");
  const failure = checking ? null : current.find((_, i) => states[i] === "failed")?.error;
  const reasonId = useId();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  // The Idempotency-Key the last order went with, and whose it was (chooseAttempt: one per user and cart, shared by the
  // browser's tabs, for ATTEMPT_LIFETIME_MS), to end it when the answer says the attempt is over.
  const sent = useRef<{ user: number; key: string } | null>(null);
  // Set before the cart is emptied: TanStack calls onSuccess before isSuccess turns true, and the order's page may
  // still be loading, so without it the checkout would say "Your cart is empty" right after the order was placed.
  const placed = useRef(false);

  const placeOrder = useSubmitMutation({
    budget: "order",
    mutationFn: async (body: OrderRequest) => {
      // The key is chosen as the request goes, for the user it goes as: the same cart as the attempt before (a retry,
      // or another tab's order of it) keeps its key.
      const user = getSession()?.user.id ?? 0;
      const { key } = await chooseAttempt(user, body);
      sent.current = { user, key };
      return api.placeOrder(body, key);
    },
    onSuccess: (order: Order) => {
      if (sent.current) void endAttempt(sent.current.user, sent.current.key);
      placed.current = true;
      queryClient.setQueryData(queryKeys.order(order.id), order);
      void queryClient.invalidateQueries({ queryKey: queryKeys.orders });
      void queryClient.invalidateQueries({ queryKey: queryKeys.inventory });
      clear();
      navigate(`/my/orders/${order.id}`, { replace: true, state: { placed: true } });
    },
    onError: (error) => {
      const status = error instanceof ApiError ? error.status : 0;
      if (sent.current && !keepKeyAfterError(status, error instanceof ApiError ? error.retryAfter : null)) {
        void endAttempt(sent.current.user, sent.current.key);
      }
      // Stock may have changed: refresh the catalogue.
      if (status === 409) void queryClient.invalidateQueries({ queryKey: queryKeys.inventory });
    },
  });

  // The shop's cap may be set lower than MAX_UNITS_PER_ORDER: once it refused this cart as too large, the same cart
  // waits until the shopper changes it, rather than each press being refused again (and then rate limited).
  // A 429 (or a still-in-progress 409) says how long to wait: Place order waits that long (useSubmitMutation) rather
  // than offering a click that can only be refused again.
  const waiting = placeOrder.held;
  const tooLarge = isProblem(placeOrder.error, 422, "Order too large");
  const tooLargeAsSent = tooLarge && placeOrder.variables !== undefined && fingerprintOf(placeOrder.variables) === fingerprintOf(toOrderRequest(cart));
  // Place order waits until the total shown is the total charged. A read failed for now (503, the network) holds it
  // too, with Check again, rather than letting the order go at a price the shopper has not seen; and Orders reserves
  // the stock at Inventory, so while Inventory does not answer the order would fail anyway. A gone or sold-out item
  // is removed here, in one click. A line above today's stock is not lowered here: the shopper chooses between fewer
  // and none (and whether the rest is still worth ordering) in the cart, which says "Only 2 in stock."; so is a cart past
  // the units one order may hold (from before the cap, or two tabs), which the shop would refuse.
  const reason = waiting
    ? (placeOrder.holdReason ?? "")
    : units > MAX_UNITS_PER_ORDER
      ? `${unitsCapNote(units)} Lower the quantities to place your order.`
      : tooLargeAsSent
        ? "Lower the quantities to place your order, as the message above says."
        : checking
          ? "Checking today's prices…"
          : failure
            ? `Could not check today's prices. ${errorMessage(failure)}`
            : states.includes("gone") || states.includes("soldOut")
              ? "Remove the items no longer sold or out of stock to place your order."
              : states.includes("short")
                ? "Lower the quantities marked to today's stock to place your order."
                : "";
  // A reason that points to the error alert above (a 429's wait, the shop's own cap) is shown, and describes Place order,
  // but is not said: the alert has said it, and a screen reader would hear it twice.
  const alertSaidIt = waiting || (units <= MAX_UNITS_PER_ORDER && tooLargeAsSent);

  function submit() {
    if (cart.length === 0 || reason) return;
    placeOrder.submit(toOrderRequest(cart));
  }

  if (cart.length === 0 && !placeOrder.isSuccess && !placed.current) {
    return <EmptyCart title="Checkout" takeFocus={emptiedHere.current} />;
  }

  const short = new Set(placeOrder.error instanceof ApiError ? placeOrder.error.shortSkus : []);
  const tooManyPending = isProblem(placeOrder.error, 409, "Too many pending orders");
  const actionLink = "block text-sm font-medium text-indigo-700 hover:underline";

  return (
    <>
      <PageHeader title="Checkout" subtitle="Review your order, then place it." />
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-3">
        <Card className="overflow-x-auto lg:col-span-2">
          <LineItemsTable
            caption="Order summary"
            priceLabel="Price"
            lines={cart.map((line, i) => ({
              sku: line.sku,
              name: line.name,
              qty: line.qty,
              unitPrice: line.price,
              total: lineTotal(line),
              problem: problemOf(states[i], current[i].data?.qty) ?? (short.has(line.sku) ? "Not enough stock" : undefined),
              action:
                states[i] === "gone" || states[i] === "soldOut" ? (
                  <Button
                    variant="secondary"
                    size="sm"
                    className="mt-2"
                    aria-label={`Remove ${line.name}`}
                    onClick={(e) => removeLine(line, e.currentTarget.closest("tr"), placeButton.current)}
                  >
                    Remove
                  </Button>
                ) : undefined,
            }))}
          />
        </Card>
        <Card className="h-fit space-y-4 p-5">
          <div className="flex justify-between text-base font-semibold text-stone-900">
            <span>Total</span>
            <span>{formatMoney(cartTotal(cart))}</span>
          </div>
          <p className="text-xs text-stone-500">
            The final price is computed by the shop when the order is placed.
          </p>
          {priceChanges.length ? (
            <Alert tone="info">
              {priceChanges.length === 1 ? "A price changed" : "Prices changed"} since you added{" "}
              {priceChanges.length === 1 ? "this item" : "these items"}:{" "}
              {priceChanges.map((c) => `${c.name} ${formatMoney(c.was)} → ${formatMoney(c.now)}`).join(", ")}. The total is
              today&apos;s.
            </Alert>
          ) : null}
          <ErrorAlert error={placeOrder.error} hold={placeOrder.holdReason} />
          {/* What the shopper can do about it: a cart to change (short items, too many units), or pending orders to
              cancel (Orders' "Too many pending orders", a 409 that no edit of the cart gets past). */}
          {states.includes("short") || units > MAX_UNITS_PER_ORDER || tooLarge || short.size > 0 ? (
            <Link to="/cart" className={actionLink}>
              Edit your cart
            </Link>
          ) : tooManyPending ? (
            <Link to="/my/orders?status=pending" className={actionLink}>
              Your pending orders
            </Link>
          ) : null}
          <Button
            ref={placeButton}
            className="w-full"
            onClick={submit}
            disabled={placeOrder.isPending || placeOrder.isSuccess || reason !== ""}
            focusableWhenDisabled
            busy={placeOrder.isPending}
            aria-describedby={reason ? reasonId : undefined}
          >
            Place order
          </Button>
          {/* Always there (empty while nothing holds the order, or the alert has said why), so a screen reader announces the
              reason as it comes. */}
          <p id={alertSaidIt ? undefined : reasonId} aria-live="polite" className={reason && !alertSaidIt ? "text-sm text-stone-600" : "sr-only"}>
            {alertSaidIt ? "" : reason}
          </p>
          {alertSaidIt ? (
            <p id={reasonId} className="text-sm text-stone-600">
              {reason}
            </p>
          ) : null}
          {failure ? (
            <Button variant="secondary" className="w-full" onClick={() => current.forEach((q, i) => states[i] === "failed" && void q.refetch())}>
              Check again
            </Button>
          ) : null}
        </Card>
      </div>
    </>
  );
}
