import { useEffect, useRef, useState } from "react";
import { useMutation, useQueries, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "react-router";
import { api } from "../api/client";
import { ApiError } from "../api/errors";
import { queryKeys } from "../api/queries";
import type { Order, OrderRequest } from "../api/types";
import { EmptyCart } from "../components/EmptyCart";
import { LineItemsTable } from "../components/LineItemsTable";
import { Alert, Button, Card, ErrorAlert, PageHeader } from "../components/ui";
import { cartTotal, lineTotal, toOrderRequest, type PriceChange } from "../lib/cart";
import { formatMoney } from "../lib/format";
import {
  attemptFor,
  keepKeyAfterError,
  loadAttempt,
  storeAttempt,
  type CheckoutAttempt,
} from "../lib/idempotency";
import { useCart } from "../lib/useCart";

export default function CheckoutPage() {
  const { cart, clear, refresh } = useCart();
  // The cart keeps the prices seen when each item was added; the order is charged at today's. Read them again
  // here, take them into the cart, and say which changed, so the total shown is the total charged.
  const current = useQueries({
    queries: cart.map((line) => ({ queryKey: queryKeys.item(line.sku), queryFn: () => api.getItem(line.sku), staleTime: 0 })),
  });
  const [priceChanges, setPriceChanges] = useState<PriceChange[]>([]);
  const fetched = current.flatMap((q) => (q.data ? [q.data] : []));
  const fetchedKey = fetched.map((i) => `${i.sku}:${i.price}:${i.qty}`).join("|");
  useEffect(() => {
    if (fetched.length === 0) return;
    const changes = refresh(fetched);
    if (changes.length) setPriceChanges((seen) => [...seen.filter((c) => !changes.some((n) => n.sku === c.sku)), ...changes]);
    // fetchedKey stands for the fetched items: a new array each render, the same contents.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [fetchedKey, refresh]);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  // One Idempotency-Key per checkout attempt, reused on retry / double click (kept in
  // sessionStorage so a reload during a slow request still reuses it).
  const attempt = useRef<CheckoutAttempt | null>(loadAttempt());
  const inFlight = useRef(false);
  // Set before the cart is emptied: TanStack calls onSuccess before isSuccess turns true, and the order's page may
  // still be loading, so without it the checkout would say "Your cart is empty" right after the order was placed.
  const placed = useRef(false);

  const placeOrder = useMutation({
    mutationFn: ({ body, key }: { body: OrderRequest; key: string }) => api.placeOrder(body, key),
    onSuccess: (order: Order) => {
      attempt.current = null;
      storeAttempt(null);
      placed.current = true;
      queryClient.setQueryData(queryKeys.order(order.id), order);
      void queryClient.invalidateQueries({ queryKey: queryKeys.orders });
      void queryClient.invalidateQueries({ queryKey: queryKeys.inventory });
      clear();
      navigate(`/my/orders/${order.id}`, { replace: true, state: { placed: true } });
    },
    onError: (error) => {
      const status = error instanceof ApiError ? error.status : 0;
      if (!keepKeyAfterError(status, error instanceof ApiError ? error.retryAfter : null)) {
        attempt.current = null;
        storeAttempt(null);
      }
      // Stock may have changed: refresh the catalogue.
      if (status === 409) void queryClient.invalidateQueries({ queryKey: queryKeys.inventory });
    },
    onSettled: () => {
      inFlight.current = false;
    },
  });

  function submit() {
    if (inFlight.current || cart.length === 0) return;
    inFlight.current = true;
    const body = toOrderRequest(cart);
    attempt.current = attemptFor(attempt.current, body);
    storeAttempt(attempt.current);
    placeOrder.mutate({ body, key: attempt.current.key });
  }

  if (cart.length === 0 && !placeOrder.isSuccess && !placed.current) {
    return <EmptyCart title="Checkout" />;
  }

  const short = new Set(placeOrder.error instanceof ApiError ? placeOrder.error.shortSkus : []);

  return (
    <>
      <PageHeader title="Checkout" subtitle="Review your order, then place it." />
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-3">
        <Card className="overflow-x-auto lg:col-span-2">
          <LineItemsTable
            caption="Order summary"
            priceLabel="Price"
            lines={cart.map((line) => ({
              sku: line.sku,
              name: line.name,
              qty: line.qty,
              unitPrice: line.price,
              total: lineTotal(line),
              short: short.has(line.sku),
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
          <ErrorAlert error={placeOrder.error} />
          {placeOrder.error instanceof ApiError && placeOrder.error.status === 409 && placeOrder.error.retryAfter === null ? (
            <Link to="/cart" className="block text-sm font-medium text-indigo-700 hover:underline">
              Edit your cart
            </Link>
          ) : null}
          <Button
            className="w-full"
            onClick={submit}
            disabled={placeOrder.isPending || placeOrder.isSuccess}
            busy={placeOrder.isPending}
          >
            Place order
          </Button>
        </Card>
      </div>
    </>
  );
}
