import { useEffect, useRef, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useLocation, useNavigate, useParams } from "react-router";
import { api, itemsOf } from "../api/client";
import { ApiError } from "../api/errors";
import { queryKeys } from "../api/queries";
import type { Order, OrderEvent } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { LineItemsTable } from "../components/LineItemsTable";
import type { OrderPageState } from "../components/OrderTable";
import { QueryView } from "../components/QueryView";
import { Alert, Card, ConfirmButton, ErrorAlert, Loading, Notice, PageHeader, StatusBadge, useNotice, usePageTitle } from "../components/ui";
import { capitalize, formatDateTime, formatMoney, shortId } from "../lib/format";
import { expiryRecheckMs, statusNote } from "../lib/orderStatus";
import { useSubmitMutation } from "../lib/useSubmitMutation";

// An order id as Orders' /orders/{id:guid} takes it. Anything else (the short name "3f2a9c1d" the pages show, cut
// from a link) would get the server's catch-all 404, whose words are for developers: it is not asked.
const ORDER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export default function OrderDetailPage() {
  const { id = "" } = useParams();
  const isOrderId = ORDER_ID.test(id);
  const location = useLocation();
  const { isAdmin } = useAuth();
  const queryClient = useQueryClient();
  const fromAdmin = location.pathname.startsWith("/admin/");
  const { placed, listSearch } = (location.state as OrderPageState | null) ?? {};
  // The thanks are for the moment of placing. The browser keeps an entry's state through a reload and Back/Forward, so
  // the entry forgets `placed` once read, and this visit keeps the thanks for the order it was placed for.
  const [thankedFor, setThankedFor] = useState(placed ? id : null);
  if (placed && thankedFor !== id) setThankedFor(id);
  const navigate = useNavigate();
  useEffect(() => {
    if (placed) navigate(location, { replace: true, state: { listSearch } satisfies OrderPageState });
  }, [placed, listSearch, location, navigate]);

  const order = useQuery({
    queryKey: queryKeys.order(id),
    queryFn: () => api.getOrder(id),
    enabled: isOrderId,
    // A page left open past a pending order's deadline would still say "Expires at …" and offer Cancel.
    refetchInterval: (query) => expiryRecheckMs(query.state.data),
  });
  const events = useQuery({
    queryKey: queryKeys.orderEvents(id),
    queryFn: () => api.orderEvents(id),
    enabled: isOrderId,
    select: (v) => itemsOf<OrderEvent>(v),
  });
  // The timeline follows the order: a status read anew and found changed (expired at its deadline, paid meanwhile)
  // has its event in the timeline too. The first read is not a change; a read already on its way (a cancel's
  // invalidation) is not started twice.
  const status = order.data?.status;
  const seenStatus = useRef(status);
  useEffect(() => {
    if (seenStatus.current && status !== seenStatus.current) {
      void queryClient.invalidateQueries({ queryKey: queryKeys.orderEvents(id) }, { cancelRefetch: false });
    }
    seenStatus.current = status;
  }, [status, id, queryClient]);

  const [notice, say] = useNotice();
  const actions = useRef<HTMLDivElement>(null);
  const cancel = useSubmitMutation({
    mutationFn: () => api.setOrderStatus(id, "cancelled"),
    onSuccess: (updated) => {
      // The cancel button goes with the order as it is now: focus goes to the words (said first, while it is there).
      say("The order was cancelled and its items were returned to stock.", { focusFrom: actions.current });
      queryClient.setQueryData(queryKeys.order(id), updated);
      void queryClient.invalidateQueries({ queryKey: queryKeys.orders });
      void queryClient.invalidateQueries({ queryKey: queryKeys.orderEvents(id) });
      // Cancelling restocks every line.
      void queryClient.invalidateQueries({ queryKey: queryKeys.inventory });
    },
    onError: () => {
      // Refused (paid, shipped or expired meanwhile): show the order as it is now, not the button that failed.
      void queryClient.invalidateQueries({ queryKey: queryKeys.order(id) });
      void queryClient.invalidateQueries({ queryKey: queryKeys.orderEvents(id) });
    },
  });

  const back = fromAdmin ? (
    <Link to={{ pathname: "/admin/orders", search: listSearch }} className="text-sm font-medium text-indigo-700 hover:underline">
      ← All orders
    </Link>
  ) : (
    <Link to={{ pathname: "/my/orders", search: listSearch }} className="text-sm font-medium text-indigo-700 hover:underline">
      ← My orders
    </Link>
  );

  // The page as the order is: what QueryView shows once there is one (still shown when a re-read fails).
  function shown(o: Order) {
    const cancellable = o.status === "pending" || o.status === "paid";
    const note = statusNote(o.status, o.expires_at);

    return (
      <>
        <div className="mb-4">{back}</div>
        <PageHeader
          title={`Order ${shortId(o.id)}`}
          subtitle={
            <>
              Placed {formatDateTime(o.created_at)}
              {isAdmin ? ` · user #${o.user_id}` : null}
            </>
          }
          actions={
            <div ref={actions} className="flex flex-wrap items-center gap-3">
              <StatusBadge status={o.status} />
              {cancellable ? (
                // Final: the stock goes back and subscribers are told.
                <ConfirmButton
                  size="md"
                  label="Cancel order"
                  confirmLabel="Confirm cancellation"
                  keepLabel="Keep order"
                  onConfirm={() => cancel.submit()}
                  request={cancel}
                />
              ) : null}
            </div>
          }
        />
        <div className="space-y-4">
          {/* First: empty, it takes no room, and as a last child it would leave a gap below the one before it. */}
          <Notice said={notice} />
          {thankedFor === id && o.status === "pending" ? <Alert tone="success">Thank you! Your order has been placed.</Alert> : null}
          {note ? <Alert tone="info">{note}</Alert> : null}
          {/* A refusal (shipped meanwhile) is followed by the order as it is now, without the button: focus to the words. */}
          <ErrorAlert error={cancel.error} focusFrom={actions} />
        </div>

        <div className="mt-6 grid grid-cols-1 gap-6 lg:grid-cols-3">
          <Card className="overflow-x-auto lg:col-span-2">
            <LineItemsTable
              caption="Items"
              priceLabel="Unit price"
              lines={o.items.map((line) => ({ ...line, unitPrice: line.unit_price, total: line.line_total }))}
              footer={
                <tr className="border-t border-stone-200">
                  <th scope="row" colSpan={2} className="px-4 py-3 text-left font-semibold text-stone-900 sm:hidden">
                    Total
                  </th>
                  <th scope="row" colSpan={3} className="hidden px-4 py-3 text-left font-semibold text-stone-900 sm:table-cell">
                    Total
                  </th>
                  <td className="px-4 py-3 text-right text-base font-semibold text-stone-900">{formatMoney(o.total)}</td>
                </tr>
              }
            />
          </Card>

          <Card className="h-fit p-5">
            <h2 className="font-medium text-stone-900">Timeline</h2>
            <QueryView query={events} loading={<Loading label="Loading events…" />} what="the timeline" className="mt-3">
              {(list) =>
                list.length === 0 ? (
                  <p className="mt-3 text-sm text-stone-500">No events yet.</p>
                ) : (
                  <ol className="mt-4 space-y-4 border-l border-stone-200 pl-4" aria-label="Order events">
                    {list.map((e) => (
                      <li key={e.id} className="relative">
                        <span className="absolute -left-[21px] top-1.5 size-2.5 rounded-full bg-indigo-600 ring-4 ring-white" aria-hidden="true" />
                        <p className="text-sm font-medium text-stone-900">{describeEvent(e)}</p>
                        {e.description && e.description !== describeEvent(e) ? (
                          <p className="text-sm text-stone-600">{e.description}</p>
                        ) : null}
                        <p className="text-xs text-stone-500">
                          <time dateTime={e.created_at}>{formatDateTime(e.created_at)}</time>
                        </p>
                      </li>
                    ))}
                  </ol>
                )
              }
            </QueryView>
          </Card>
        </div>
      </>
    );
  }

  // Not an order id, or none the shop finds that this user may see (Orders answers both with 404).
  const noSuchOrder = (
    <>
      <PageHeader title="No such order" />
      <Alert>There is no order at this address that you can open. Check the link, or find the order in the list.</Alert>
      <div className="mt-4">{back}</div>
    </>
  );
  if (!isOrderId) return noSuchOrder;

  return (
    <QueryView
      query={order}
      loading={<LoadingOrder id={id} />}
      what="this order"
      className="mb-4"
      failed={(error, tryAgain) =>
        error instanceof ApiError && error.status === 404 ? (
          noSuchOrder
        ) : (
          <>
            <PageHeader title={`Order ${shortId(id)}`} />
            <ErrorAlert error={error} />
            {tryAgain}
            <div className="mt-4">{back}</div>
          </>
        )
      }
    >
      {shown}
    </QueryView>
  );
}

/** The page while its order is read: the tab is named for the order already, not left with the last page's title. */
function LoadingOrder({ id }: { id: string }) {
  usePageTitle(`Order ${shortId(id)}`);
  return <Loading label="Loading the order…" />;
}

function describeEvent(e: OrderEvent): string {
  if (e.event_type === "created") return "Order placed";
  if (e.event_type === "status_changed" && e.new_value) {
    return e.old_value
      ? `Status changed from ${e.old_value} to ${e.new_value}`
      : `Status changed to ${e.new_value}`;
  }
  return capitalize(e.event_type.replace(/[_.]/g, " "));
}
