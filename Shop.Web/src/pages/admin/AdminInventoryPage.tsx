import { useRef, useState, type FormEvent } from "react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/client";
import { fieldError } from "../../api/errors";
import { queryKeys } from "../../api/queries";
import type { InventoryItem, Paged } from "../../api/types";
import { PagedTable } from "../../components/PagedTable";
import { SearchField, searchFits } from "../../components/SearchField";
import {
  Badge,
  Button,
  Card,
  ConfirmDeleteButton,
  EmptyState,
  ErrorAlert,
  Notice,
  PageHeader,
  SendButton,
  TextField,
  focusFieldTooLong,
  useNotice,
  type Say,
} from "../../components/ui";
import { focusNeighbour, useSwap } from "../../lib/focus";
import { formatMoney } from "../../lib/format";
import { wholeNumber } from "../../lib/numbers";
import { useDebounced } from "../../lib/useDebounced";
import { useSubmitMutation } from "../../lib/useSubmitMutation";

const PAGE_SIZE = 25;
// Inventory's caps on a name (ItemValidation.NameMax) and a sku (SkuPattern's {1,64}), in characters as Inventory
// counts them: TextField's maxCharacters.
const NAME_MAX = 100;
const SKU_MAX = 64;
const columns = [
  { label: "SKU" },
  { label: "Name" },
  { label: "Price", className: "text-right" },
  { label: "Stock", className: "text-right" },
  { label: "Actions" },
];

export default function AdminInventoryPage() {
  const [search, setSearch] = useState("");
  const typed = useDebounced(search.trim(), 300);
  // The last search Inventory takes: one longer is said on the box (SearchField), not asked (a 400), as the catalogue's.
  // Adjusted while rendering, as useLastTotal, so no render asks for the search refused.
  const [q, setQ] = useState(typed);
  if (typed !== q && searchFits(typed)) setQ(typed);
  const [offset, setOffset] = useState(0);
  const [notice, say] = useNotice();

  const queryKey = queryKeys.inventoryPage({ q, inStock: false, limit: PAGE_SIZE, offset });
  const query = useQuery({
    queryKey,
    queryFn: () => api.listInventory({ q: q || undefined, limit: PAGE_SIZE, offset }),
    placeholderData: keepPreviousData,
  });

  return (
    <>
      <PageHeader title="Inventory" subtitle="Create items, change prices and adjust stock." />
      <div className="space-y-6">
        <CreateItemForm onCreated={(item) => say(`Created ${item.sku}.`)} />
        <Notice said={notice} />
        <SearchField
          className="max-w-md"
          value={search}
          onChange={(e) => {
            setSearch(e.target.value);
            setOffset(0);
          }}
        />
        <PagedTable
          query={query}
          queryKey={queryKey}
          columns={columns}
          row={(item) => <ItemRow key={item.sku} item={item} onNotice={say} />}
          empty={<EmptyState title="No items" />}
          what="the inventory"
          pages={{ size: PAGE_SIZE, offset, onChange: setOffset, label: "Inventory pages" }}
        />
      </div>
    </>
  );
}

function CreateItemForm({ onCreated }: { onCreated: (item: InventoryItem) => void }) {
  const queryClient = useQueryClient();
  const [sku, setSku] = useState("");
  const [name, setName] = useState("");
  const [price, setPrice] = useState("");
  const [qty, setQty] = useState("0");
  const create = useSubmitMutation({
    mutationFn: api.createItem,
    onSuccess: (item) => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.inventory });
      setSku("");
      setName("");
      setPrice("");
      setQty("0");
      onCreated(item);
    },
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    // No whole number (a field the browser could not read): qty is left out, which Inventory takes as 0, as it did
    // when NaN went out as JSON's null.
    create.submit({ sku: sku.trim(), name: name.trim(), price: Number(price), qty: wholeNumber(qty) ?? undefined });
  }

  return (
    <Card className="p-5">
      <h2 className="font-medium text-stone-900">New item</h2>
      <form onSubmit={submit} className="mt-4 grid gap-4 sm:grid-cols-2 lg:grid-cols-5 lg:items-start" aria-label="New item">
        {/* Capped as a name is (maxCharacters, not maxLength, which cuts a paste without a word): ASCII only by
            Inventory's pattern, so its characters are its UTF-16 units either way. */}
        <TextField label="SKU" required maxCharacters={SKU_MAX} pattern="[A-Za-z0-9._\-]+" value={sku} onChange={(e) => setSku(e.target.value)} error={fieldError(create.error, "sku")} />
        <TextField label="Name" required maxCharacters={NAME_MAX} value={name} onChange={(e) => setName(e.target.value)} error={fieldError(create.error, "name")} />
        <TextField label="Price" required type="number" min="0" step="0.01" inputMode="decimal" value={price} onChange={(e) => setPrice(e.target.value)} error={fieldError(create.error, "price")} />
        <TextField label="Quantity" required type="number" min="0" step="1" inputMode="numeric" value={qty} onChange={(e) => setQty(e.target.value)} error={fieldError(create.error, "qty")} />
        <div className="lg:pt-6">
          <SendButton type="submit" className="w-full" request={create}>
            Add item
          </SendButton>
        </div>
        <ErrorAlert error={create.error} className="sm:col-span-2 lg:col-span-5" />
      </form>
    </Card>
  );
}

function ItemRow({ item, onNotice }: { item: InventoryItem; onNotice: Say }) {
  const queryClient = useQueryClient();
  const rowRef = useRef<HTMLTableRowElement>(null);
  // Edit gives way to the editor, and Save or Cancel to Edit again: focus follows, to the first field, then to Edit.
  const nameField = useRef<HTMLInputElement>(null);
  const editButton = useRef<HTMLButtonElement>(null);
  const [editing, setEditing] = useSwap(false, (open) => (open ? nameField.current : editButton.current));
  const [name, setName] = useState(item.name);
  const [price, setPrice] = useState(String(item.price));
  // A number input reports "" for what it cannot read ("12,50") as for an empty field; either is refused
  // here rather than sent as Number("") = 0, a free item.
  const [priceError, setPriceError] = useState<string | null>(null);
  const [delta, setDelta] = useState("");
  const invalidate = () => queryClient.invalidateQueries({ queryKey: queryKeys.inventory });
  // The item as saved goes into every list page holding it at once: the editor closes and "Saved MUG." is said now,
  // and the row must not show the old name, price or stock until the re-read lands (or keep them if it fails).
  const showSaved = (saved: InventoryItem) => {
    queryClient.setQueriesData<Paged<InventoryItem>>(
      { queryKey: queryKeys.inventoryLists },
      (page) => page && { ...page, items: page.items.map((i) => (i.sku === saved.sku ? saved : i)) },
    );
    void invalidate();
  };

  const update = useSubmitMutation({
    mutationFn: () => api.updateItem(item.sku, { name: name.trim(), price: Number(price) }),
    onSuccess: (saved) => {
      setEditing(false);
      onNotice(`Saved ${item.sku}.`);
      showSaved(saved);
    },
  });
  const adjust = useSubmitMutation({
    mutationFn: (d: number) => api.adjustStock(item.sku, d),
    onSuccess: (updated) => {
      setDelta("");
      onNotice(`Stock of ${item.sku} is now ${updated.qty}.`);
      showSaved(updated);
    },
  });
  const remove = useSubmitMutation({
    mutationFn: () => api.deleteItem(item.sku),
    onSuccess: () => {
      // The row goes once the list is read again, and with it a focused Confirm delete. Focus moves now to the next
      // row (else the previous one), before the words are said so the move does not cut them off; with no row left
      // the words take it. Focus the user has taken elsewhere meanwhile stays there.
      const moved = focusNeighbour(rowRef.current);
      onNotice(`Deleted ${item.sku}.`, moved ? undefined : { focusFrom: rowRef.current });
      void invalidate();
    },
  });

  const error = update.error ?? adjust.error ?? remove.error;
  const cell = "block px-4 py-1 wrap-anywhere md:table-cell md:py-3 md:align-top";
  // Null while the field holds no whole number: Adjust then has nothing to send.
  const deltaNumber = wholeNumber(delta);
  const adjustable = deltaNumber !== null && deltaNumber !== 0;

  return (
    <tr ref={rowRef} className="block py-3 md:table-row md:py-0" aria-label={item.sku}>
      <td className={`${cell} font-mono text-xs break-all text-stone-600`}>{item.sku}</td>
      <td className={cell}>
        {editing ? (
          <TextField ref={nameField} label={`Name of ${item.sku}`} hideLabel dense maxCharacters={NAME_MAX} value={name} onChange={(e) => setName(e.target.value)} />
        ) : (
          <span className="font-medium text-stone-900">{item.name}</span>
        )}
      </td>
      <td className={`${cell} md:text-right`}>
        {editing ? (
          <>
            <label htmlFor={`price-${item.id}`} className="sr-only">
              Price of {item.sku}
            </label>
            <input
              id={`price-${item.id}`}
              type="number"
              min="0"
              step="0.01"
              value={price}
              onChange={(e) => {
                setPrice(e.target.value);
                setPriceError(null);
              }}
              aria-invalid={priceError ? true : undefined}
              aria-describedby={priceError ? `price-error-${item.id}` : undefined}
              className="w-28 rounded-md border-0 px-2 py-1 text-right text-sm ring-1 ring-inset ring-stone-300 focus:ring-2 focus:ring-indigo-600"
            />
            {priceError ? (
              <span id={`price-error-${item.id}`} role="alert" className="mt-1 block text-xs text-red-700">
                {priceError}
              </span>
            ) : null}
          </>
        ) : (
          formatMoney(item.price)
        )}
      </td>
      <td className={`${cell} md:text-right`}>
        {item.qty === 0 ? <Badge tone="bad">0</Badge> : <span className="font-medium">{item.qty}</span>}
      </td>
      <td className={cell}>
        <div className="flex flex-wrap items-center gap-2">
          {editing ? (
            <>
              <SendButton
                size="sm"
                request={update}
                onClick={() => {
                  if (focusFieldTooLong(rowRef.current)) return;
                  const value = price.trim() === "" ? Number.NaN : Number(price);
                  if (!Number.isFinite(value) || value < 0) {
                    setPriceError("Enter a price of 0 or more, such as 12.50.");
                    return;
                  }
                  update.submit();
                }}
              >
                Save
              </SendButton>
              {/* Not offered while the save is on its way (it cannot be called back, and its outcome closes the editor):
                  focusable, as Save beside it. */}
              <Button
                size="sm"
                variant="ghost"
                disabled={update.isPending}
                focusableWhenDisabled
                onClick={() => {
                  setEditing(false);
                  setName(item.name);
                  setPrice(String(item.price));
                  setPriceError(null);
                  update.reset();
                }}
              >
                Cancel
              </Button>
            </>
          ) : (
            <Button
              ref={editButton}
              size="sm"
              variant="secondary"
              onClick={() => {
                setName(item.name);
                setPrice(String(item.price));
                setEditing(true);
              }}
            >
              Edit
            </Button>
          )}
          <form
            className="flex flex-wrap items-center gap-1"
            onSubmit={(e) => {
              e.preventDefault();
              if (adjustable) adjust.submit(deltaNumber);
            }}
          >
            <label htmlFor={`delta-${item.id}`} className="sr-only">
              Stock change for {item.sku}
            </label>
            <input
              id={`delta-${item.id}`}
              type="number"
              step="1"
              placeholder="±"
              value={delta}
              onChange={(e) => setDelta(e.target.value)}
              className="w-20 rounded-md border-0 px-2 py-1 text-sm ring-1 ring-inset ring-stone-300 focus:ring-2 focus:ring-indigo-600"
            />
            {/* Focusable when unavailable: pressed, it is busy and then has nothing to adjust by (the change is cleared). */}
            <SendButton type="submit" size="sm" variant="secondary" request={adjust} disabled={!adjustable}>
              Adjust
            </SendButton>
          </form>
          {/* Busy from the press until the row goes with the re-read: pressed again once done, it would send a second DELETE (a 404). */}
          <ConfirmDeleteButton onConfirm={() => remove.submit()} request={remove} busy={remove.isSuccess} />
        </div>
        <ErrorAlert error={error} className="mt-2" />
      </td>
    </tr>
  );
}
