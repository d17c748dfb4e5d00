import { useCallback, useSyncExternalStore } from "react";
import {
  addToCart,
  parseCart,
  removeFromCart,
  setQuantity,
  withCurrentItems,
  withCurrentStock,
  type Cart,
  type CartLine,
} from "./cart";

const KEY = "shop.cart.v1";
const listeners = new Set<() => void>();
let snapshot: Cart = [];
let snapshotRaw: string | null | undefined;

/** Re-parses only when the stored text changed, so the snapshot is stable between renders. */
function read(): Cart {
  let raw: string | null = null;
  try {
    raw = localStorage.getItem(KEY);
  } catch {
    return snapshot;
  }
  if (raw !== snapshotRaw) {
    snapshotRaw = raw;
    snapshot = parseCart(raw);
  }
  return snapshot;
}

function write(cart: Cart) {
  snapshot = cart;
  try {
    const raw = JSON.stringify(cart);
    localStorage.setItem(KEY, raw);
    snapshotRaw = raw;
  } catch {
    /* quota or privacy mode: keep the in-memory cart */
  }
  listeners.forEach((l) => l());
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  // Keep several tabs of the same browser in step.
  const onStorage = (e: StorageEvent) => {
    if (e.key === KEY || e.key === null) listener();
  };
  window.addEventListener("storage", onStorage);
  return () => {
    listeners.delete(listener);
    window.removeEventListener("storage", onStorage);
  };
}

const EMPTY: Cart = [];

/** The cart as stored now (also after a write in this render's effects, which the rendered `cart` does not show yet). */
export function currentCart(): Cart {
  return read();
}

/** Empties the cart, also outside a component: Sign out does (see AuthProvider). */
export function clearCart(): void {
  write([]);
}

export function useCart() {
  const cart = useSyncExternalStore(subscribe, read, () => EMPTY);
  const add = useCallback((item: Omit<CartLine, "qty">, qty = 1) => write(addToCart(read(), item, qty)), []);
  const setQty = useCallback((sku: string, qty: number) => write(setQuantity(read(), sku, qty)), []);
  const remove = useCallback((sku: string) => write(removeFromCart(read(), sku)), []);
  /** Takes today's prices into the cart; returns the price changes (none: nothing is written). */
  const refresh = useCallback((items: { sku: string; name: string; price: number; qty: number }[]) => {
    const current = read();
    const { cart: updated, changes, changed } = withCurrentItems(current, items);
    if (changed) write(updated);
    return changes;
  }, []);
  /** Takes today's stock into the cart, nothing else (withCurrentStock). */
  const takeStock = useCallback((items: { sku: string; qty: number }[]) => {
    const current = read();
    const updated = withCurrentStock(current, items);
    if (updated !== current) write(updated);
  }, []);
  return { cart, add, setQty, remove, clear: clearCart, refresh, takeStock };
}
