// Cart logic as pure functions. The cart is kept in localStorage (per browser) by useCart.

export const MAX_LINE_QTY = 1000; // the server accepts qty 1..1000 per line
export const MAX_LINES = 100; // and 1..100 lines per order
// Mirrors Orders:MaxUnitsPerOrder's default (Shop.Orders appsettings.json): an order of more units in all is refused
// (422 "Order too large"), so the cart stops there rather than letting the shopper find out at checkout.
export const MAX_UNITS_PER_ORDER = 100;

export interface CartLine {
  sku: string;
  name: string;
  /** Unit price as seen in the catalogue; the server recomputes prices at order time. */
  price: number;
  qty: number;
  /** Stock last read (when the item was added, or at checkout); caps what adding and editing may reach, not authoritative. A line may hold more once it fell (the cart and checkout say so). */
  stock?: number;
}

export type Cart = CartLine[];

/** `room`: what the order's unit cap leaves for the line (roomFor); never below 1, which only removing goes under. */
export function clampQty(qty: number, stock?: number, room = MAX_LINE_QTY): number {
  if (!Number.isFinite(qty)) return 1;
  const upper = Math.min(MAX_LINE_QTY, stock !== undefined && stock > 0 ? stock : MAX_LINE_QTY, room);
  return Math.max(1, Math.min(upper, Math.floor(qty)));
}

/** The most units line `sku` may hold with the rest of the cart as it is (MAX_UNITS_PER_ORDER less the others). */
export function roomFor(cart: Cart, sku: string): number {
  return MAX_UNITS_PER_ORDER - cart.reduce((n, l) => (l.sku === sku ? n : n + l.qty), 0);
}

/** Why a cart at MAX_UNITS_PER_ORDER takes no more (the catalogue), or one past it cannot be ordered (checkout). */
export function unitsCapNote(units: number): string {
  return `One order can hold at most ${MAX_UNITS_PER_ORDER} units; your cart has ${units}.`;
}

/** Adds `qty` of an item; an item already in the cart has its quantity increased. Nothing when the order is full. */
export function addToCart(cart: Cart, item: Omit<CartLine, "qty">, qty = 1): Cart {
  const existing = cart.find((l) => l.sku === item.sku);
  const room = roomFor(cart, item.sku);
  if (room <= (existing?.qty ?? 0)) return cart;
  if (existing) {
    return cart.map((l) =>
      l.sku === item.sku
        ? { ...l, name: item.name, price: item.price, stock: item.stock, qty: clampQty(l.qty + qty, item.stock, room) }
        : l,
    );
  }
  if (cart.length >= MAX_LINES) return cart;
  return [...cart, { ...item, qty: clampQty(qty, item.stock, room) }];
}

/** Sets a line's quantity; 0 or less removes the line. */
export function setQuantity(cart: Cart, sku: string, qty: number): Cart {
  if (!Number.isFinite(qty) || qty <= 0) return removeFromCart(cart, sku);
  const room = roomFor(cart, sku);
  return cart.map((l) => (l.sku === sku ? { ...l, qty: clampQty(qty, l.stock, room) } : l));
}

/** A change of price since a line was added: what the shopper saw, and what the shop charges now. */
export interface PriceChange {
  sku: string;
  name: string;
  was: number;
  now: number;
}

/**
 * The cart with today's names, prices and stock of the items given; the price changes it made; and whether it changed
 * anything at all (false: the cart already holds these reads, and `cart` is the one given).
 */
export function withCurrentItems(
  cart: Cart,
  items: { sku: string; name: string; price: number; qty: number }[],
): { cart: Cart; changes: PriceChange[]; changed: boolean } {
  const bySku = new Map(items.map((i) => [i.sku, i]));
  const changes: PriceChange[] = [];
  let changed = false;
  const updated = cart.map((line) => {
    const item = bySku.get(line.sku);
    if (!item || (item.name === line.name && item.price === line.price && item.qty === line.stock)) return line;
    changed = true;
    if (toCents(item.price) !== toCents(line.price)) {
      changes.push({ sku: line.sku, name: item.name, was: line.price, now: item.price });
    }
    return { ...line, name: item.name, price: item.price, stock: item.qty };
  });
  return { cart: changed ? updated : cart, changes, changed };
}

/**
 * The cart with today's stock of the items given, and nothing else of them (the cart page: a restock lets a line grow,
 * a fall is said on it). Names and prices are left for checkout, which takes them in and says which prices changed.
 * The cart given when no stock changed.
 */
export function withCurrentStock(cart: Cart, items: { sku: string; qty: number }[]): Cart {
  const stock = new Map(items.map((i) => [i.sku, i.qty]));
  let changed = false;
  const updated = cart.map((line) => {
    const today = stock.get(line.sku);
    if (today === undefined || today === line.stock) return line;
    changed = true;
    return { ...line, stock: today };
  });
  return changed ? updated : cart;
}

export function removeFromCart(cart: Cart, sku: string): Cart {
  return cart.filter((l) => l.sku !== sku);
}

/** Money is summed in cents to avoid floating point drift (0.1 + 0.2). */
function toCents(amount: number): number {
  return Math.round(amount * 100);
}

export function lineTotal(line: CartLine): number {
  return toCents(line.price) * line.qty / 100;
}

export function cartTotal(cart: Cart): number {
  return cart.reduce((sum, l) => sum + toCents(l.price) * l.qty, 0) / 100;
}

/** Number of units in the cart (shown in the nav as "Cart (n)"). */
export function cartCount(cart: Cart): number {
  return cart.reduce((sum, l) => sum + l.qty, 0);
}

/** The body of POST /orders/. Prices are not sent: the server computes them. */
export function toOrderRequest(cart: Cart): { items: { sku: string; qty: number }[] } {
  return { items: cart.map((l) => ({ sku: l.sku, qty: l.qty })) };
}

/** Parses whatever is in storage into a valid cart, dropping anything malformed. */
export function parseCart(raw: string | null): Cart {
  if (!raw) return [];
  try {
    const value: unknown = JSON.parse(raw);
    if (!Array.isArray(value)) return [];
    const seen = new Set<string>();
    const cart: Cart = [];
    for (const v of value) {
      if (!v || typeof v !== "object") continue;
      const l = v as Record<string, unknown>;
      if (typeof l.sku !== "string" || seen.has(l.sku)) continue;
      if (typeof l.price !== "number" || typeof l.qty !== "number" || l.qty <= 0) continue;
      seen.add(l.sku);
      const stock = typeof l.stock === "number" ? l.stock : undefined;
      cart.push({
        sku: l.sku,
        name: typeof l.name === "string" ? l.name : l.sku,
        price: l.price,
        // Not capped at the stock: a line above it (the stock fell, read at checkout) stays as the shopper left it,
        // and the cart and checkout say why it cannot be ordered so; lowering it here would do it without a word.
        qty: clampQty(l.qty),
        stock,
      });
    }
    return cart.slice(0, MAX_LINES);
  } catch {
    return [];
  }
}
