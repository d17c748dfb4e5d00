import { useCallback, useId, useLayoutEffect, useRef, useState, type FormEvent } from "react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/client";
import { fieldError } from "../../api/errors";
import { queryKeys } from "../../api/queries";
import { WEBHOOK_EVENTS, type Webhook, type WebhookDelivery, type WebhookEvent } from "../../api/types";
import { PagedTable, usePagedList } from "../../components/PagedTable";
import { QueryView } from "../../components/QueryView";
import {
  Alert,
  Badge,
  Button,
  Card,
  ConfirmButton,
  ConfirmDeleteButton,
  EmptyState,
  ErrorAlert,
  Loading,
  Notice,
  PageHeader,
  SendButton,
  TextField,
  useNotice,
  type Say,
} from "../../components/ui";
import { focusNeighbour } from "../../lib/focus";
import { formatDateTime, shortId } from "../../lib/format";
import { useListParams } from "../../lib/useListParams";
import { useSubmitMutation } from "../../lib/useSubmitMutation";

/**
 * How often the open page re-reads what the background dispatcher changes on its own: the subscriptions (so "Not
 * answering" comes and goes without a reload) and an open delivery log.
 */
export const WEBHOOKS_REFRESH_MS = 15_000;

/** Subscriptions per page: each is a card with its own actions and delivery log, so fewer than a table's rows. */
const WEBHOOKS_PAGE_SIZE = 20;

export default function AdminWebhooksPage() {
  // Secrets just made (at creation or by a rotation), shown until Done: kept here, above the list, so nothing that
  // happens to the list (a first read that fails, a card gone from a re-read) can take away one that will never be
  // shown again.
  const [secrets, setSecrets] = useState<Webhook[]>([]);
  const show = useCallback((w: Webhook) => setSecrets((shown) => [w, ...shown.filter((s) => s.id !== w.id)]), []);
  const [notice, say] = useNotice();
  const { offset, set } = useListParams([] as const);
  const queryKey = queryKeys.webhooksPage(offset);
  const list = useQuery({
    queryKey,
    queryFn: () => api.listWebhooks({ limit: WEBHOOKS_PAGE_SIZE, offset }),
    placeholderData: keepPreviousData,
    // A subscriber's pause starts and ends on its own (background dispatcher): refresh while the page is open.
    refetchInterval: WEBHOOKS_REFRESH_MS,
  });
  const { movingBack, pager, keep } = usePagedList(list, queryKey, {
    size: WEBHOOKS_PAGE_SIZE,
    offset,
    onChange: (o) => set({ offset: o }),
    label: "Webhook pages",
  }, { announcePageChangesOnly: true });

  return (
    <>
      <PageHeader title="Webhooks" subtitle="Notify other systems when orders are created or change status." />
      <div className="space-y-6">
        <CreateWebhookForm onCreated={show} />
        {secrets.map((w) =>
          w.secret ? <SecretBox key={w.secret} webhook={w} onDismiss={() => setSecrets((shown) => shown.filter((s) => s !== w))} /> : null,
        )}
        <Notice said={notice} />
        {/* A failed 15 s re-read keeps the cards, so an open delivery log or a half-done rotation stays as it was. */}
        {movingBack ? (
          <Loading />
        ) : (
          <QueryView query={list} loading={<Loading />} what="the webhooks" keep={keep}>
            {(page) =>
              page.items.length === 0 ? (
                <EmptyState title="No webhooks yet">Create one above to start receiving order events.</EmptyState>
              ) : (
                <>
                  <ul className="space-y-4" aria-label="Webhooks">
                    {page.items.map((w) => (
                      <WebhookCard key={w.id} webhook={w} onRotated={show} onNotice={say} />
                    ))}
                  </ul>
                  {pager(page.total)}
                </>
              )
            }
          </QueryView>
        )}
      </div>
    </>
  );
}

function CreateWebhookForm({ onCreated }: { onCreated: (w: Webhook) => void }) {
  const queryClient = useQueryClient();
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState<WebhookEvent[]>(["order.created"]);
  const [secret, setSecret] = useState("");
  const [localError, setLocalError] = useState<string | null>(null);
  const create = useSubmitMutation({
    mutationFn: api.createWebhook,
    onSuccess: (w) => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.webhooks });
      setUrl("");
      setEvents(["order.created"]);
      setSecret("");
      onCreated(w);
    },
  });
  const all = events.includes("*");

  function toggle(event: WebhookEvent, on: boolean) {
    if (event === "*") setEvents(on ? ["*"] : []);
    else setEvents((prev) => (on ? [...prev.filter((e) => e !== "*"), event] : prev.filter((e) => e !== event)));
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    if (events.length === 0) {
      setLocalError("Choose at least one event.");
      return;
    }
    setLocalError(null);
    // Empty means "generate one": the API reads an empty string as a (too short) chosen secret.
    create.submit({ url: url.trim(), events, ...(secret ? { secret } : {}) });
  }

  return (
    <Card className="p-5">
      <h2 className="font-medium text-stone-900">New webhook</h2>
      <form onSubmit={submit} className="mt-4 space-y-4" aria-label="New webhook">
        <TextField
          label="URL"
          type="url"
          required
          placeholder="https://example.com/hooks/shop"
          value={url}
          onChange={(e) => setUrl(e.target.value)}
          error={fieldError(create.error, "url")}
        />
        <TextField
          label="Signing secret (optional)"
          type="password"
          autoComplete="off"
          spellCheck={false}
          hint="Leave empty to have one generated. To use one the receiver already has: 32 to 256 visible ASCII characters."
          value={secret}
          onChange={(e) => setSecret(e.target.value)}
          error={fieldError(create.error, "secret")}
        />
        <fieldset>
          <legend className="mb-2 text-sm font-medium text-stone-700">Events</legend>
          <div className="flex flex-col gap-2 sm:flex-row sm:gap-6">
            {WEBHOOK_EVENTS.map((ev) => (
              <label key={ev} className="inline-flex items-center gap-2 text-sm text-stone-700">
                <input
                  type="checkbox"
                  className="size-4 accent-indigo-600"
                  checked={all || events.includes(ev)}
                  disabled={all}
                  onChange={(e) => toggle(ev, e.target.checked)}
                />
                <span className="font-mono">{ev}</span>
              </label>
            ))}
            <label className="inline-flex items-center gap-2 text-sm text-stone-700">
              <input type="checkbox" className="size-4 accent-indigo-600" checked={all} onChange={(e) => toggle("*", e.target.checked)} />
              All events
            </label>
          </div>
        </fieldset>
        {localError ? (
          <Alert>{localError}</Alert>
        ) : (
          <ErrorAlert error={create.error} />
        )}
        <SendButton type="submit" request={create}>
          Create webhook
        </SendButton>
      </form>
    </Card>
  );
}

/** A secret just made (at creation or by a rotation), shown this once: the Shop keeps no readable copy to show again. */
function SecretBox({ webhook, onDismiss }: { webhook: Webhook; onDismiss: () => void }) {
  const [copied, setCopied] = useState<"yes" | "no" | null>(null);
  const headingId = useId(); // several boxes can be open at once: a creation's and rotations'
  const heading = useRef<HTMLHeadingElement>(null);
  // The box replaces the button that made it (focus would fall to the page) and must be read now: move focus to it,
  // before the box is painted (a passive effect could run after a keystroke already went to the page).
  useLayoutEffect(() => heading.current?.focus(), []);
  async function copy() {
    try {
      await navigator.clipboard.writeText(webhook.secret ?? "");
      setCopied("yes");
    } catch {
      setCopied("no");
    }
  }
  return (
    <section aria-labelledby={headingId} className="rounded-xl border-2 border-amber-300 bg-amber-50 p-5">
      <h2 id={headingId} ref={heading} tabIndex={-1} className="font-medium text-amber-900 outline-none">
        Signing secret for {webhook.url}
      </h2>
      <p className="mt-1 text-sm text-amber-900">
        Copy it now: it is shown only once. Use it to verify the <code className="font-mono">X-Shop-Signature</code> header.
        {webhook.previous_secret_expires_at
          ? ` Deliveries are signed with the previous secret too until ${formatDateTime(webhook.previous_secret_expires_at)}: switch the subscriber before then.`
          : null}
      </p>
      <div className="mt-3 flex flex-col gap-2 sm:flex-row sm:items-center">
        <code data-testid="webhook-secret" className="block flex-1 select-all break-all rounded-lg bg-white px-3 py-2 font-mono text-sm text-stone-900 ring-1 ring-amber-200">
          {webhook.secret}
        </code>
        <div className="flex gap-2">
          <Button variant="secondary" onClick={copy}>
            Copy secret
          </Button>
          <Button variant="ghost" onClick={onDismiss}>
            Done
          </Button>
        </div>
      </div>
      <p role="status" className="mt-2 text-xs text-amber-900">
        {copied === "yes" ? "Copied to the clipboard." : copied === "no" ? "Copy failed: select the secret and copy it by hand." : ""}
      </p>
    </section>
  );
}

function WebhookCard({ webhook, onRotated, onNotice }: { webhook: Webhook; onRotated: (rotated: Webhook) => void; onNotice: Say }) {
  const queryClient = useQueryClient();
  const cardRef = useRef<HTMLLIElement>(null);
  const [open, setOpen] = useState(false);
  const remove = useSubmitMutation({
    mutationFn: () => api.deleteWebhook(webhook.id),
    onSuccess: () => {
      // The card goes once the list is read again, and with it a focused Confirm delete: as an Inventory row's delete.
      const moved = focusNeighbour(cardRef.current);
      onNotice(`Deleted the webhook for ${webhook.url}.`, moved ? undefined : { focusFrom: cardRef.current });
      void queryClient.invalidateQueries({ queryKey: queryKeys.webhooks });
    },
  });
  const [rotations, setRotations] = useState(0);
  const rotate = useSubmitMutation({
    mutationFn: () => api.rotateWebhookSecret(webhook.id),
    onSuccess: (rotated) => {
      setRotations((n) => n + 1);
      onRotated(rotated);
      void queryClient.invalidateQueries({ queryKey: queryKeys.webhooks });
    },
  });
  const panelId = `deliveries-${webhook.id}`;

  return (
    <li ref={cardRef}>
      <Card className="p-5">
        <article aria-label={webhook.url}>
          <div className="flex flex-col gap-3 sm:flex-row sm:items-start sm:justify-between">
            <div className="min-w-0">
              <p className="break-all font-medium text-stone-900">{webhook.url}</p>
              <div className="mt-2 flex flex-wrap items-center gap-2">
                {webhook.events.map((e) => (
                  <Badge key={e} tone="accent">
                    {e === "*" ? "All events" : e}
                  </Badge>
                ))}
                {webhook.is_active ? <Badge tone="good">Active</Badge> : <Badge>Inactive</Badge>}
                {webhook.paused_until ? <Badge tone="warn">Not answering</Badge> : null}
                <span className="text-xs text-stone-500">Created {formatDateTime(webhook.created_at)}</span>
              </div>
              {webhook.paused_until ? (
                <p className="mt-2 text-sm text-amber-800">
                  Its last attempts got no answer (or 429, 502, 503, 504). Deliveries wait with their retries untouched: the
                  next try is at {formatDateTime(webhook.paused_until)}, and the rest follow as soon as one gets through.
                </p>
              ) : null}
            </div>
            <div className="flex shrink-0 flex-wrap gap-2">
              <Button size="sm" variant="secondary" aria-expanded={open} aria-controls={panelId} onClick={() => setOpen((o) => !o)}>
                {open ? "Hide deliveries" : "Deliveries"}
              </Button>
              {/* Asks first: the subscriber must be given the new secret before the grace period runs out. A new key per
                  rotation puts it back to asking, so a further click cannot rotate again and void the secret shown. */}
              <ConfirmButton
                key={rotations}
                label="Rotate secret"
                confirmLabel="Confirm rotation"
                keepLabel="Keep current secret"
                onConfirm={() => rotate.submit()}
                request={rotate}
              />
              {/* Busy from the press until the card goes with the re-read: pressed again once done, it would send a second DELETE (a 404). */}
              <ConfirmDeleteButton onConfirm={() => remove.submit()} request={remove} busy={remove.isSuccess} />
            </div>
          </div>
          <ErrorAlert error={remove.error} className="mt-3" />
          <ErrorAlert error={rotate.error} className="mt-3" />
          {open ? (
            <div id={panelId} className="mt-4">
              <DeliveryLog webhookId={webhook.id} />
            </div>
          ) : null}
        </article>
      </Card>
    </li>
  );
}

const PAGE_SIZE = 20;

function DeliveryLog({ webhookId }: { webhookId: Webhook["id"] }) {
  const [offset, setOffset] = useState(0);
  const queryKey = queryKeys.webhookDeliveries(webhookId, offset);
  const query = useQuery({
    queryKey,
    queryFn: () => api.webhookDeliveries(webhookId, { limit: PAGE_SIZE, offset }),
    placeholderData: keepPreviousData,
    // Delivery state moves on its own (background dispatcher): refresh while open.
    staleTime: 10_000,
    refetchInterval: WEBHOOKS_REFRESH_MS,
  });

  return (
    <PagedTable
      query={query}
      queryKey={queryKey}
      columns={deliveryColumns}
      row={(d) => <DeliveryRow key={d.id} delivery={d} />}
      empty={<p className="text-sm text-stone-500">No deliveries yet.</p>}
      loadingLabel="Loading deliveries…"
      caption="Delivery log"
      what="the delivery log"
      dense
      pages={{ size: PAGE_SIZE, offset, onChange: setOffset, label: "Delivery pages" }}
      announcePageChangesOnly
    />
  );
}

const deliveryColumns = ["Event", "Order", "Status", "Attempts", "Last response", "When"].map((label) => ({ label }));
const deliveryTone = { delivered: "good", failed: "bad", pending: "warn" } as const;

function DeliveryRow({ delivery: d }: { delivery: WebhookDelivery }) {
  const cell = "block px-3 py-1 wrap-anywhere md:table-cell md:py-2";
  return (
    <tr className="block py-2 md:table-row md:py-0">
      <td className={`${cell} font-mono text-xs`}>{d.event_type}</td>
      <td className={`${cell} font-mono text-xs`}>{d.order_id ? shortId(d.order_id) : "—"}</td>
      <td className={cell}>
        <Badge tone={deliveryTone[d.status] ?? "neutral"}>{d.status}</Badge>
      </td>
      <td className={cell}>{d.attempts}</td>
      <td className={`${cell} text-xs text-stone-600`}>
        {d.last_status_code ? `HTTP ${d.last_status_code}` : ""}
        {d.last_error ? <span className="block max-w-xs truncate" title={d.last_error}>{d.last_error}</span> : null}
        {!d.last_status_code && !d.last_error ? "—" : null}
      </td>
      <td className={`${cell} text-xs text-stone-600`}>
        {d.status === "delivered"
          ? `Delivered ${formatDateTime(d.delivered_at)}`
          : d.status === "pending" && d.next_attempt_at
            ? `Next try ${formatDateTime(d.next_attempt_at)}`
            : "—"}
      </td>
    </tr>
  );
}
