import { describe, expect, it } from "vitest";
import {
  addToCart,
  cartCount,
  cartTotal,
  clampQty,
  lineTotal,
  MAX_LINE_QTY,
  parseCart,
  removeFromCart,
  setQuantity,
  toOrderRequest,
  withCurrentStock,
  type Cart,
} from "./cart";

const widget = { sku: "W-1", name: "Widget", price: 19.99, stock: 10 };
const gadget = { sku: "G-2", name: "Gadget", price: 0.1, stock: 500 };

describe("cart", () => {
  it("adds a new line and increases an existing one", () => {
    let cart: Cart = [];
    cart = addToCart(cart, widget);
    cart = addToCart(cart, widget, 2);
    cart = addToCart(cart, gadget);
    expect(cart).toHaveLength(2);
    expect(cart[0]).toMatchObject({ sku: "W-1", qty: 3 });
    expect(cartCount(cart)).toBe(4);
  });

  it("caps quantity at the stock seen and at the order limit", () => {
    const cart = addToCart([], widget, 50);
    expect(cart[0].qty).toBe(10);
    expect(clampQty(5000)).toBe(MAX_LINE_QTY);
    expect(clampQty(2.7)).toBe(2);
    expect(clampQty(Number.NaN)).toBe(1);
  });

  it("keeps the cart within the 100 units an order may hold (Orders:MaxUnitsPerOrder), as the shop refuses more", () => {
    let cart = addToCart([], gadget, 150);
    expect(cart[0].qty).toBe(100);
    expect(addToCart(cart, widget)).toEqual(cart); // no room left: nothing added
    cart = setQuantity(cart, "G-2", 95);
    cart = addToCart(cart, widget, 10);
    expect(cart.find((l) => l.sku === "W-1")?.qty).toBe(5);
    cart = setQuantity(cart, "G-2", 200);
    expect(cart.find((l) => l.sku === "G-2")?.qty).toBe(95);
    expect(cartCount(cart)).toBe(100);
  });

  it("sets quantities, removing the line at 0", () => {
    let cart = addToCart(addToCart([], widget), gadget);
    cart = setQuantity(cart, "G-2", 7);
    expect(cart.find((l) => l.sku === "G-2")?.qty).toBe(7);
    cart = setQuantity(cart, "G-2", 0);
    expect(cart.map((l) => l.sku)).toEqual(["W-1"]);
    cart = setQuantity(cart, "W-1", -3);
    expect(cart).toEqual([]);
  });

  it("removes a line without touching others", () => {
    const cart = addToCart(addToCart([], widget), gadget);
    expect(removeFromCart(cart, "W-1").map((l) => l.sku)).toEqual(["G-2"]);
    expect(removeFromCart(cart, "nope")).toHaveLength(2);
  });

  it("computes line totals and the total without floating point drift", () => {
    let cart = addToCart([], gadget, 3); // 3 × 0.10
    expect(lineTotal(cart[0])).toBe(0.3);
    cart = addToCart(cart, widget, 3); // 3 × 19.99
    expect(lineTotal(cart[1])).toBe(59.97);
    expect(cartTotal(cart)).toBe(60.27);
    expect(cartTotal([])).toBe(0);
  });

  it("builds the order request with sku and qty only", () => {
    const cart = addToCart(addToCart([], widget, 2), gadget);
    expect(toOrderRequest(cart)).toEqual({ items: [{ sku: "W-1", qty: 2 }, { sku: "G-2", qty: 1 }] });
  });

  it("parses stored carts defensively", () => {
    expect(parseCart(null)).toEqual([]);
    expect(parseCart("not json")).toEqual([]);
    expect(parseCart('{"a":1}')).toEqual([]);
    const raw = JSON.stringify([
      { sku: "A", name: "A", price: 1, qty: 2 },
      { sku: "A", name: "dup", price: 1, qty: 1 },
      { sku: "B", price: "x", qty: 1 },
      { sku: "C", name: "C", price: 2, qty: 0 },
      { sku: "D", price: 3, qty: 5000 },
    ]);
    expect(parseCart(raw)).toEqual([
      { sku: "A", name: "A", price: 1, qty: 2, stock: undefined },
      { sku: "D", name: "D", price: 3, qty: MAX_LINE_QTY, stock: undefined },
    ]);
  });

  it("keeps a stored quantity above the stock last read, so a reload does not lower it without a word", () => {
    // Checkout stores today's stock without touching the quantity; the cart then says "Only 2 in stock.".
    const raw = JSON.stringify([{ sku: "MUG", name: "Mug", price: 8.5, qty: 5, stock: 2 }]);
    expect(parseCart(raw)).toEqual([{ sku: "MUG", name: "Mug", price: 8.5, qty: 5, stock: 2 }]);
  });
});

describe("withCurrentStock", () => {
  const cart = [{ sku: "MUG", name: "Mug", price: 8.5, qty: 2, stock: 2 }];

  it("takes today's stock only: the price and name stay for checkout to take in and say", () => {
    const today = { sku: "MUG", name: "Big mug", price: 9, qty: 50 };
    expect(withCurrentStock(cart, [today])).toEqual([{ ...cart[0], stock: 50 }]);
  });

  it("gives the cart back as it was when no stock changed, so nothing is written", () => {
    expect(withCurrentStock(cart, [{ sku: "MUG", qty: 2 }])).toBe(cart);
    expect(withCurrentStock(cart, [{ sku: "CAP", qty: 9 }])).toBe(cart);
  });
});
