import { useState } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api } from "../api/client";
import { queryKeys } from "../api/queries";
import type { InventoryItem } from "../api/types";
import { usePagedList } from "../components/PagedTable";
import { QueryView } from "../components/QueryView";
import { SearchField, searchFits } from "../components/SearchField";
import { Badge, Button, EmptyState, Loading, PageHeader } from "../components/ui";
import { MAX_LINES, MAX_UNITS_PER_ORDER, cartCount, unitsCapNote } from "../lib/cart";
import { formatMoney } from "../lib/format";
import { useCart } from "../lib/useCart";
import { useListParams, useParamBox } from "../lib/useListParams";

const PAGE_SIZE = 12;

export default function CatalogPage() {
  const { values, offset, set } = useListParams(["q", "in_stock"] as const);
  const q = values.q;
  const inStock = values.in_stock === "true";
  // The URL's q is what is listed; the box follows it (the nav's Catalogue link clears it, Back restores one).
  // A search longer than Inventory takes is said on the box (SearchField) and not asked: the list stays the last one.
  const [search, setSearch] = useParamBox(q, (typed) => {
    if (searchFits(typed)) set({ q: typed });
  });
  const { cart, add } = useCart();
  const units = cartCount(cart);
  const [lastAdded, setLastAdded] = useState<string | null>(null);

  const queryKey = queryKeys.inventoryPage({ q, inStock, limit: PAGE_SIZE, offset });
  const query = useQuery({
    queryKey,
    queryFn: () => api.listInventory({ q: q || undefined, in_stock: inStock || undefined, limit: PAGE_SIZE, offset }),
    placeholderData: keepPreviousData,
  });

  const { movingBack, pager, keep } = usePagedList(query, queryKey, {
    size: PAGE_SIZE,
    offset,
    onChange: (o) => set({ offset: o }),
    label: "Catalogue pages",
  });
  const loading = <Loading label="Loading the catalogue…" />;

  function addItem(item: InventoryItem, inCart: number) {
    add({ sku: item.sku, name: item.name, price: item.price, stock: item.qty }, 1);
    // Says how many are in the cart now: a screen reader announces a change, so the same words twice would be silent.
    setLastAdded(`${item.name} added to cart: ${inCart + 1} in your cart.`);
  }

  return (
    <>
      <PageHeader title="Catalogue" subtitle="Everything in stock today, at today's prices." />
      <div className="mb-6 flex flex-col gap-3 sm:flex-row sm:items-center">
        <SearchField className="relative flex-1" value={search} onChange={(e) => setSearch(e.target.value)} />
        <label className="inline-flex items-center gap-2 text-sm text-stone-700">
          <input
            type="checkbox"
            checked={inStock}
            onChange={(e) => set({ in_stock: e.target.checked ? "true" : "" })}
            className="size-4 rounded border-stone-300 accent-indigo-600"
          />
          In stock only
        </label>
      </div>

      <div aria-live="polite" className="sr-only">
        {lastAdded ?? ""}
      </div>

      {movingBack ? (
        loading
      ) : (
        <QueryView query={query} loading={loading} what="the catalogue" keep={keep}>
          {(page) =>
            page.items.length === 0 ? (
              <EmptyState title={q || inStock ? "No items match your search" : "The catalogue is empty"}>
                {q || inStock ? "Try another search term or show out-of-stock items." : "Check back soon."}
              </EmptyState>
            ) : (
              <>
                <ul className="grid grid-cols-1 gap-4 sm:grid-cols-2 lg:grid-cols-3" aria-busy={query.isFetching}>
                  {page.items.map((item) => {
                    const inCart = cart.find((l) => l.sku === item.sku)?.qty ?? 0;
                    // Where one more would not fit (adding keeps a line at most at the stock, the cart at 100 units and
                    // 100 lines; the units stop a line long before its 1000), the button says why instead of doing
                    // nothing when pressed; it keeps focus (a disabled button would drop a keyboard user's to the
                    // page) and is described by the reason.
                    const full =
                      item.qty > 0 && inCart >= item.qty
                        ? `All ${item.qty} in stock are in your cart.`
                        : units >= MAX_UNITS_PER_ORDER
                          ? unitsCapNote(units)
                          : !inCart && cart.length >= MAX_LINES ? `Your cart has ${MAX_LINES} lines, the most an order can hold.` : null;
                    return (
                      <li key={item.sku}>
                        <article
                          aria-labelledby={`item-${item.id}`}
                          className="flex h-full flex-col rounded-xl border border-stone-200 bg-white p-5 shadow-sm"
                        >
                          <div className="flex items-start justify-between gap-3">
                            <div className="min-w-0">
                              <h2 id={`item-${item.id}`} className="truncate font-medium text-stone-900" title={item.name}>
                                {item.name}
                              </h2>
                              <p className="mt-0.5 font-mono text-xs break-all text-stone-500">{item.sku}</p>
                            </div>
                            <p className="shrink-0 text-lg font-semibold text-stone-900">{formatMoney(item.price)}</p>
                          </div>
                          <div className="mt-4 flex items-center gap-2">
                            <StockBadge qty={item.qty} />
                            {inCart ? <span className="text-xs text-stone-500">{inCart} in cart</span> : null}
                          </div>
                          <div className="mt-auto pt-5">
                            <Button
                              className="w-full"
                              disabled={item.qty <= 0 || full !== null}
                              focusableWhenDisabled={full !== null}
                              aria-describedby={full ? `full-${item.id}` : undefined}
                              onClick={() => addItem(item, inCart)}
                            >
                              Add to cart
                            </Button>
                            {full ? (
                              <p id={`full-${item.id}`} className="mt-2 text-xs text-stone-500">
                                {full}
                              </p>
                            ) : null}
                          </div>
                        </article>
                      </li>
                    );
                  })}
                </ul>
                {pager(page.total)}
              </>
            )
          }
        </QueryView>
      )}

      {cart.length ? (
        <div className="mt-8 flex justify-end">
          <Link
            to="/cart"
            className="rounded-lg bg-stone-900 px-4 py-2 text-sm font-medium text-white shadow-sm hover:bg-stone-700"
          >
            Review cart
          </Link>
        </div>
      ) : null}
    </>
  );
}

function StockBadge({ qty }: { qty: number }) {
  if (qty <= 0) return <Badge tone="bad">Out of stock</Badge>;
  if (qty <= 5) return <Badge tone="warn">Only {qty} left</Badge>;
  return <Badge tone="good">{qty} in stock</Badge>;
}
