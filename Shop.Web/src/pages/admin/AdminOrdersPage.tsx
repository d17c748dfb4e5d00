import { useRef, useState } from "react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/client";
import { queryKeys } from "../../api/queries";
import type { Order, OrderStatus } from "../../api/types";
import { OrderStatusFilter, OrderTable } from "../../components/OrderTable";
import { ConfirmButton, EmptyState, ErrorAlert, Notice, PageHeader, SelectField, SendButton, TextField, useNotice, type Say } from "../../components/ui";
import { capitalize, shortId } from "../../lib/format";
import { nextStatuses } from "../../lib/orderStatus";
import { useListParams, useParamBox } from "../../lib/useListParams";
import { useSubmitMutation } from "../../lib/useSubmitMutation";

const PAGE_SIZE = 25;

export default function AdminOrdersPage() {
  // In the URL, like My orders: opening an order and coming back (Back, "← All orders") finds the list as it was.
  const { values, offset, set } = useListParams(["status", "user_id"] as const);
  const status = values.status as OrderStatus | "";
  const userId = values.user_id;
  const [userIdInput, setUserIdInput] = useParamBox(userId, (typed) => set({ user_id: typed }));
  const [notice, say] = useNotice();
  const validUserId = userId === "" || /^\d+$/.test(userId);

  const queryKey = queryKeys.ordersPage({ status, userId, limit: PAGE_SIZE, offset, scope: "all" });
  const query = useQuery({
    queryKey,
    queryFn: () =>
      api.listOrders({ status: status || undefined, user_id: userId || undefined, limit: PAGE_SIZE, offset }),
    placeholderData: keepPreviousData,
    enabled: validUserId,
  });

  return (
    <>
      <PageHeader title="All orders" subtitle="Every customer's orders, newest first." />
      <div className="mb-6 flex flex-col gap-3 sm:flex-row sm:items-start">
        <OrderStatusFilter
          className="sm:w-48"
          value={status}
          onChange={(e) => set({ status: e.target.value })}
        />
        <TextField
          label="User ID"
          className="sm:w-40"
          inputMode="numeric"
          value={userIdInput}
          onChange={(e) => setUserIdInput(e.target.value)}
          error={validUserId ? undefined : "Enter a number."}
        />
      </div>
      {/* On the page from the start (Notice): an alert added together with its words was often not read. */}
      <Notice said={notice} className="mb-4" />
      {/* An invalid user id disables the query; its field already says why. */}
      {validUserId ? (
        <OrderTable
          query={query}
          queryKey={queryKey}
          linkBase="/admin/orders"
          showUser
          actions={(o) => <StatusChanger order={o} onChanged={say} />}
          empty={<EmptyState title="No orders match these filters" />}
          pages={{ size: PAGE_SIZE, offset, onChange: (o) => set({ offset: o }) }}
        />
      ) : null}
    </>
  );
}

function StatusChanger({ order, onChanged }: { order: Order; onChanged: Say }) {
  const queryClient = useQueryClient();
  const place = useRef<HTMLDivElement>(null);
  const options = nextStatuses(order.status);
  const [target, setTarget] = useState<OrderStatus | "">(options[0] ?? "");
  const mutation = useSubmitMutation({
    mutationFn: (s: OrderStatus) => api.setOrderStatus(order.id, s),
    onSuccess: (updated) => {
      queryClient.setQueryData(queryKeys.order(order.id), updated);
      void queryClient.invalidateQueries({ queryKey: queryKeys.orders });
      void queryClient.invalidateQueries({ queryKey: queryKeys.orderEvents(order.id) });
      if (updated.status === "cancelled") void queryClient.invalidateQueries({ queryKey: queryKeys.inventory });
      // A final status (delivered, cancelled) takes the select and its button away with the re-read: focus goes to the
      // words now, said first, rather than falling to <body> then. Otherwise the button stays, and so does focus.
      const final = nextStatuses(updated.status).length === 0;
      onChanged(`Order ${shortId(order.id)} is now ${updated.status}.`, final ? { focusFrom: place.current } : undefined);
    },
    onError: () => {
      // Refused (409: another admin moved the order meanwhile): the row shows the order as it is now, not the badge
      // and choices the refusal was about.
      void queryClient.invalidateQueries({ queryKey: queryKeys.orders });
    },
  });
  // Stays with the row when the re-read makes it final, so why the change was refused is still said.
  const refusal = <ErrorAlert error={mutation.error} className="mt-2" />;

  if (options.length === 0) {
    return (
      <div ref={place}>
        <span className="text-xs text-stone-600">Final</span>
        {refusal}
      </div>
    );
  }
  const value = options.includes(target as OrderStatus) ? target : options[0];

  return (
    <div ref={place}>
      <form
        className="flex flex-wrap items-center gap-2"
        onSubmit={(e) => {
          e.preventDefault();
          // A cancellation is sent only by its Confirm cancellation (below), never by the form on its own.
          if (value && value !== "cancelled") mutation.submit(value as OrderStatus);
        }}
      >
        <SelectField
          label={`New status for order ${shortId(order.id)}`}
          hideLabel
          value={value}
          onChange={(e) => setTarget(e.target.value as OrderStatus)}
          className="w-36"
        >
          {options.map((s) => (
            <option key={s} value={s}>
              {capitalize(s)}
            </option>
          ))}
        </SelectField>
        {value === "cancelled" ? (
          // Final, as the shopper's Cancel order on the order's page: the stock goes back and subscribers are told. So it
          // asks first, in the same words; the other moves are a step along the order's way and go at once.
          <ConfirmButton
            label="Update status"
            confirmLabel="Confirm cancellation"
            keepLabel="Keep order"
            onConfirm={() => mutation.submit("cancelled")}
            request={mutation}
          />
        ) : (
          <SendButton type="submit" size="sm" variant="secondary" request={mutation}>
            Update status
          </SendButton>
        )}
      </form>
      {refusal}
    </div>
  );
}
