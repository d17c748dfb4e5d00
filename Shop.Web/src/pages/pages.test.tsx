// @vitest-environment jsdom
// Accessibility contract of the pages (labels, button names, headings) and checkout behaviour.
import { describe, expect, it, vi } from "vitest";
import { act, cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { createQueryClient, queryKeys } from "../api/queries";
import { saveSession } from "../api/session";
import type { CartLine } from "../lib/cart";
import { description, eachTestSignedOutWith, emojiName, expectHeldExplanation, fieldProblem, json, renderAt, tooManyRequests as appTooManyRequests, typeInto } from "../test/app";

const admin = { id: 1, name: "Ada", email: "admin@shop.local", role: "admin" as const, is_active: true, created_at: "2026-01-01T00:00:00Z" };
const customer = { ...admin, id: 2, name: "Bob", email: "bob@example.com", role: "user" as const };

const orderId = "3f2a9c1d-0000-4000-8000-000000000000";
/** The customer's one-line order as the shop sends it: pending unless told otherwise. */
function anOrder(changes: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: orderId, user_id: 2, status: "pending", total: 5, items: [{ sku: "MUG", name: "Mug", qty: 1, unit_price: 5, line_total: 5 }], created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z", ...changes };
}
const orderPlaced = { id: 1, order_id: orderId, event_type: "created", description: "Order created", old_value: null, new_value: "pending", user_id: 2, created_at: "2026-01-01T00:00:00Z" };

/** The orders service as it is at each request: the order, its events and a page of a list holding it. */
function serveOrder(now: () => { order: Record<string, unknown>; events?: unknown[]; page?: { total: number; offset: number } }) {
  fetchMock.mockImplementation(async (input) => {
    const url = String(input);
    const { order, events = [], page = { total: 1, offset: 0 } } = now();
    if (url.endsWith("/events")) return json(200, events);
    if (url.startsWith(`/orders/${orderId}`)) return json(200, order);
    return json(200, { items: [order], limit: 20, ...page });
  });
}
const tooManyRequests = () => json(429, { status: 429, title: "Too Many Requests" }, "application/problem+json");

const fetchMock = vi.fn<typeof fetch>();

/** GET /inventory/{sku} as the shop answers it today. */
function inventoryItem(sku: string, price: number, qty = 50, name = "Mug") {
  return { id: 1, sku, name, price, qty, created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z" };
}

/** Checkout's own reads of today's prices answered with the cart's price; POST /orders/ gets the answers given, in turn. */
function checkoutFetch(price: number, ...orderAnswers: (() => Promise<Response>)[]) {
  fetchMock.mockImplementation(async (input) => {
    const url = String(input);
    if (url.startsWith("/inventory/")) return json(200, inventoryItem(decodeURIComponent(url.slice("/inventory/".length)), price));
    const answer = orderAnswers.shift();
    if (!answer) throw new Error(`unexpected request ${url}`);
    return answer();
  });
}

/** The Idempotency-Key of every POST /orders/ sent so far, in order. */
function keysSent(): string[] {
  return fetchMock.mock.calls
    .filter(([u, init]) => String(u) === "/orders/" && init?.method === "POST")
    .map(([, init]) => (init?.headers as Record<string, string>)["Idempotency-Key"]);
}

/** The customer signed in with one Mug in the cart, and the first `n` orders sent lost on the network (the order may have been placed). */
function checkoutWithOrdersLost(n: number) {
  saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
  localStorage.setItem("shop.cart.v1", JSON.stringify([{ sku: "MUG", name: "Mug", price: 8.5, qty: 1 }]));
  checkoutFetch(8.5, ...Array.from({ length: n }, () => () => Promise.reject(new TypeError("Failed to fetch"))));
}

/** Sign out pressed, then `email` signed in at the sign-in page it lands on: the catalogue follows. */
async function signOutAndSignInAs(email: string) {
  fireEvent.click(screen.getByRole("button", { name: "Sign out" }));
  expect(await screen.findByRole("heading", { level: 1, name: "Sign in" })).toBeTruthy();
  fireEvent.change(screen.getByLabelText("Email"), { target: { value: email } });
  fireEvent.change(screen.getByLabelText("Password"), { target: { value: "secret123" } });
  fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
  expect(await screen.findByRole("heading", { level: 1, name: "Catalogue" })).toBeTruthy();
}

/**
 * The customer signed in with `lines` in the cart, Inventory answering each line's item with today's stock (`stock`,
 * by sku; the line's price and name), and every other request with `otherwise`.
 */
function signedInWithCart(lines: CartLine[], stock: Record<string, number>, otherwise: () => Response) {
  saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
  localStorage.setItem("shop.cart.v1", JSON.stringify(lines));
  fetchMock.mockImplementation(async (input) => {
    const line = lines.find((l) => String(input) === `/inventory/${l.sku}`);
    return line ? json(200, inventoryItem(line.sku, line.price, stock[line.sku], line.name)) : otherwise();
  });
}

/** Place order once it may be clicked: checkout reads today's prices and stock first. */
async function readyToOrder(): Promise<HTMLButtonElement> {
  const button = () => screen.getByRole("button", { name: "Place order" }) as HTMLButtonElement;
  // Held, Place order stays focusable (aria-disabled, never natively disabled).
  await waitFor(() => expect(button().getAttribute("aria-disabled")).toBeNull());
  return button();
}

/** The words of the element with focus, when that is not the page itself (<body>, where it falls with a control that went). */
function focusedWords(): string | null | undefined {
  return document.activeElement === document.body ? null : document.activeElement?.textContent;
}

/** `button`, which empties the cart, pressed from the keyboard: focus goes to the words the page shows in the lines' place. */
async function pressedLeavesFocusOnTheEmptyCart(button: HTMLElement) {
  button.focus();
  fireEvent.click(button);
  await waitFor(() => expect(focusedWords()).toContain("Your cart is empty"));
}

/** The words in every live region on the page now (alerts, status and aria-live regions): what a screen reader says. */
function spoken(): string[] {
  return [...document.querySelectorAll("[aria-live], [role=alert], [role=status]")].flatMap((r) => (r.textContent ? [r.textContent] : []));
}

/**
 * The customer's pending order of one Mug (no events yet) opened at its page. Its PATCH gets `answer`, and the order
 * reads with status `after` from then on: cancelled, or moved on meanwhile (the reason for a refusal).
 */
function openPendingOrder(after: string, answer: (order: object) => Response | Promise<Response>) {
  saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
  const id = "3f2a9c1d-0000-4000-8000-000000000000";
  const order = { id, user_id: 2, status: "pending", total: 5, items: [{ sku: "MUG", name: "Mug", qty: 1, unit_price: 5, line_total: 5 }], created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z" };
  let current = order;
  fetchMock.mockImplementation(async (input, init) => {
    if (init?.method === "PATCH") return answer((current = { ...order, status: after }));
    return json(200, String(input).endsWith("/events") ? [] : current);
  });
  renderAt(`/my/orders/${id}`);
}

const refusedAsShipped = () =>
  json(409, { status: 409, title: "Invalid transition", detail: "A shipped order cannot be cancelled." }, "application/problem+json");

/** Cancel order and Confirm cancellation from the keyboard; while the PATCH runs, focus goes on to "← My orders", returned. */
async function cancelThenMoveOn(): Promise<HTMLElement> {
  const cancel = await screen.findByRole("button", { name: "Cancel order" });
  cancel.focus();
  fireEvent.click(cancel);
  fireEvent.click(screen.getByRole("button", { name: "Confirm cancellation" }));
  await waitFor(() => expect(fetchMock.mock.calls.some(([, init]) => init?.method === "PATCH")).toBe(true));
  const elsewhere = screen.getByRole("link", { name: "← My orders" });
  elsewhere.focus();
  return elsewhere;
}

eachTestSignedOutWith(fetchMock);

describe("pages", () => {
  it("sign in: labelled fields, named button, then the catalogue", async () => {
    fetchMock.mockImplementation(async (input) => {
      const url = String(input);
      if (url === "/users/login") return json(200, { access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
      return json(200, { items: [], total: 0, limit: 12, offset: 0 });
    });
    renderAt("/signin");
    expect(await screen.findByRole("heading", { level: 1, name: "Sign in" })).toBeTruthy();
    await waitFor(() => expect(document.title).toBe("Sign in · Shop"));
    fireEvent.change(screen.getByLabelText("Email"), { target: { value: "bob@example.com" } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "secret123" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Catalogue" })).toBeTruthy();
    await waitFor(() => expect(document.title).toBe("Catalogue · Shop"));
    expect(screen.getByRole("button", { name: "Sign out" })).toBeTruthy();
    expect(screen.queryByRole("link", { name: "Inventory" })).toBeNull();
  });

  it("a shopper sent to sign in at checkout who creates an account instead lands back at checkout", async () => {
    localStorage.setItem("shop.cart.v1", JSON.stringify([{ sku: "MUG", name: "Mug", price: 8.5, qty: 1, stock: 5 }]));
    fetchMock.mockImplementation(async (input) => {
      const url = String(input);
      if (url === "/users/register") return json(201, { access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
      if (url.startsWith("/inventory/")) return json(200, { id: 1, sku: "MUG", name: "Mug", price: 8.5, qty: 5, created_at: "", updated_at: "" });
      throw new Error(`unexpected request ${url}`);
    });
    renderAt("/cart");
    fireEvent.click(await screen.findByRole("link", { name: "Sign in to check out" }));
    fireEvent.click(await screen.findByRole("link", { name: "Create an account" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Create account" })).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Name"), { target: { value: "Bob" } });
    fireEvent.change(screen.getByLabelText("Email"), { target: { value: "bob@example.com" } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "secret123" } });
    fireEvent.click(screen.getByRole("button", { name: "Create account" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Checkout" })).toBeTruthy();
  });

  it("sign in failure is shown in words with role=alert", async () => {
    fetchMock.mockResolvedValue(json(401, { status: 401, title: "Unauthorized" }, "application/problem+json"));
    renderAt("/signin");
    fireEvent.change(await screen.findByLabelText("Email"), { target: { value: "x@example.com" } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "wrongpass" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect((await screen.findByRole("alert")).textContent).toBe("The email or password is incorrect.");
  });

  it("sign in and register: two submits in one task (Enter pressed twice, a double click on a busy page) send one request", async () => {
    fetchMock.mockImplementation(() => new Promise<Response>(() => {})); // never answered: both submits find it on its way
    const forms = [
      { path: "/signin", fields: ["Email", "Password"], button: "Sign in", sends: "/users/login" },
      { path: "/register", fields: ["Name", "Email", "Password"], button: "Create account", sends: "/users/register" },
    ];
    for (const { path, fields, button, sends } of forms) {
      renderAt(path);
      for (const label of fields) fireEvent.change(await screen.findByLabelText(label), { target: { value: "bob@example.com" } });
      const press = screen.getByRole("button", { name: button });
      fireEvent.click(press);
      fireEvent.click(press);
      await waitFor(() => expect(press.getAttribute("aria-busy")).toBe("true"));
      expect(fetchMock.mock.calls.map(([u]) => String(u))).toEqual([sends]);
      cleanup();
      fetchMock.mockClear();
    }
  });

  it("sign in and register: a 429 holds the button (focusable) for its Retry-After, and neither a press nor Enter sends again", async () => {
    const limited = () =>
      new Response(JSON.stringify({ status: 429, title: "Too Many Requests" }), {
        status: 429,
        headers: { "content-type": "application/problem+json", "retry-after": "840" },
      });
    fetchMock.mockImplementation(async () => limited());
    const fields = { "/signin": ["Email", "Password"], "/register": ["Name", "Email", "Password"] };
    for (const [path, button] of [["/signin", "Sign in"], ["/register", "Create account"]] as const) {
      renderAt(path);
      for (const label of fields[path]) fireEvent.change(await screen.findByLabelText(label), { target: { value: "bob@example.com" } });
      const press = screen.getByRole("button", { name: button }) as HTMLButtonElement;
      press.focus();
      fireEvent.click(press);
      expect((await screen.findByRole("alert")).textContent).toBe("Too many attempts. Please try again in 14 minutes.");
      // Held, and still focusable: a natively disabled button drops a keyboard user's focus to the page.
      await waitFor(() => expect(press.getAttribute("aria-disabled")).toBe("true"));
      expect(press.disabled).toBe(false);
      expect(document.activeElement).toBe(press);
      expectHeldExplanation(press);
      fireEvent.click(press);
      fireEvent.submit(press.closest("form")!); // Enter in a field submits without the button
      await act(async () => {});
      expect(fetchMock.mock.calls).toHaveLength(1);
      cleanup();
      fetchMock.mockClear();
    }
  });

  it("sign in: Users' lockout (429) holds Sign in only while Email is the email refused; the gateway's 429 holds every email", async () => {
    const refusal = (title: string, detail: string) => () =>
      new Response(JSON.stringify({ status: 429, title, detail }), {
        status: 429,
        headers: { "content-type": "application/problem+json", "retry-after": "840" },
      });
    const lockout = refusal("Too many sign-in attempts", "Too many password attempts for this account or from this address. Try again in 840 second(s).");
    const gateway = refusal("Too many requests", "Too many sign-in or registration attempts from your network address. Wait 840 s (Retry-After) before trying again.");
    const signIn = () => screen.getByRole("button", { name: "Sign in" });
    const held = () => signIn().getAttribute("aria-disabled") === "true";
    const typeEmail = (email: string) => fireEvent.change(screen.getByLabelText("Email"), { target: { value: email } });
    /** Sign in pressed for a@x.example, refused with `answer`: then held. */
    const refusedWith = async (answer: () => Response) => {
      fetchMock.mockImplementation(async () => answer());
      renderAt("/signin");
      fireEvent.change(await screen.findByLabelText("Password"), { target: { value: "wrong password" } });
      typeEmail("a@x.example");
      fireEvent.click(signIn());
      await waitFor(() => expect(held()).toBe(true));
      expectHeldExplanation(signIn());
    };

    await refusedWith(lockout);
    // Another email is not the account locked: Sign in may be pressed for it, and the press is sent.
    typeEmail("b@x.example");
    await act(async () => {});
    expect(held()).toBe(false);
    expect(signIn().getAttribute("aria-describedby")).toBeNull();
    // The email refused, however it is written (Users trims and lower-cases it), is held still.
    typeEmail("  A@X.Example ");
    await act(async () => {});
    expect(held()).toBe(true);
    typeEmail("b@x.example");
    await act(async () => {});
    fireEvent.click(signIn());
    await waitFor(() => expect(fetchMock).toHaveBeenCalledTimes(2));
    expect(JSON.parse(String(fetchMock.mock.calls[1][1]?.body)).email).toBe("b@x.example");
    cleanup();
    fetchMock.mockClear();

    // The gateway refuses this browser's sign-ins whatever the email: every email waits.
    await refusedWith(gateway);
    typeEmail("b@x.example");
    await act(async () => {});
    expect(held()).toBe(true);
    expectHeldExplanation(signIn());
    fireEvent.click(signIn());
    await act(async () => {});
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });

  it("register: an email already registered (409) marks the Email field and offers Sign in, which returns the shopper to checkout", async () => {
    localStorage.setItem("shop.cart.v1", JSON.stringify([{ sku: "MUG", name: "Mug", price: 8.5, qty: 1, stock: 5 }]));
    const taken = {
      status: 409,
      title: "Email already registered",
      detail: "An account with this email already exists. Sign in instead, or register with another email.",
    };
    fetchMock.mockImplementation(async (input) => {
      const url = String(input);
      if (url === "/users/register") return json(409, taken, "application/problem+json");
      if (url === "/users/login") return json(200, { access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
      if (url.startsWith("/inventory/")) return json(200, inventoryItem("MUG", 8.5, 5));
      throw new Error(`unexpected request ${url}`);
    });
    renderAt("/cart");
    fireEvent.click(await screen.findByRole("link", { name: "Sign in to check out" }));
    fireEvent.click(await screen.findByRole("link", { name: "Create an account" }));
    fireEvent.change(await screen.findByLabelText("Name"), { target: { value: "Bob" } });
    fireEvent.change(screen.getByLabelText("Email"), { target: { value: "bob@example.com" } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "secret123" } });
    fireEvent.click(screen.getByRole("button", { name: "Create account" }));
    // Said once (the alert); the field is marked and described by why.
    expect((await screen.findByRole("alert")).textContent).toBe(taken.detail);
    const email = screen.getByLabelText("Email");
    await waitFor(() => expect(email.getAttribute("aria-invalid")).toBe("true"));
    expect(description(email)).toMatch(/already/);
    // Marked while it holds the email refused: another one typed may be free.
    fireEvent.change(email, { target: { value: "bob2@example.com" } });
    expect(email.getAttribute("aria-invalid")).toBeNull();
    fireEvent.change(email, { target: { value: "bob@example.com" } });
    fireEvent.click(screen.getByRole("link", { name: "Sign in with this email" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Sign in" })).toBeTruthy();
    expect((screen.getByLabelText("Email") as HTMLInputElement).value).toBe("bob@example.com");
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "secret123" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Checkout" })).toBeTruthy();
  });

  it("register: a name of 100 emoji is taken whole (the shop counts characters, not UTF-16 units); one more is said on the field, and nothing is sent", async () => {
    fetchMock.mockImplementation(async () => json(201, { access_token: "t", token_type: "bearer", expires_in: 3600, user: customer }));
    renderAt("/register");
    const name = await screen.findByLabelText("Name");
    typeInto(name, emojiName(101)); // pasted: nothing is cut
    typeInto(screen.getByLabelText("Email"), "bob@example.com");
    typeInto(screen.getByLabelText("Password"), "secret123");
    expect((name as HTMLInputElement).value).toBe(emojiName(101));
    expect(name.getAttribute("aria-invalid")).toBe("true");
    expect(description(name)).toBe("Shorten this to 100 characters: it has 101.");
    fireEvent.click(screen.getByRole("button", { name: "Create account" }));
    await act(async () => {});
    expect(fetchMock).not.toHaveBeenCalled();
    expect(document.activeElement).toBe(name); // where its words are read
    typeInto(name, emojiName(100));
    expect(name.getAttribute("aria-invalid")).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Create account" }));
    await waitFor(() => expect(fetchMock).toHaveBeenCalled());
    expect(JSON.parse(String(fetchMock.mock.calls[0][1]?.body)).name).toBe(emojiName(100));
  });

  it("register: a pasted password longer than the shop takes is kept whole and said on its field (counted in characters as typed, as Users does), not cut and sent", async () => {
    fetchMock.mockImplementation(async () => json(201, { access_token: "t", token_type: "bearer", expires_in: 3600, user: customer }));
    renderAt("/register");
    typeInto(await screen.findByLabelText("Name"), "Bob");
    typeInto(screen.getByLabelText("Email"), "bob@example.com");
    const password = screen.getByLabelText("Password");
    // What a password manager that ignores maxlength puts in: cut, the account would get a password other than the one saved.
    typeInto(password, "p".repeat(129));
    expect((password as HTMLInputElement).value).toBe("p".repeat(129));
    expect(password.getAttribute("aria-invalid")).toBe("true");
    expect(description(password)).toBe("Shorten this to 128 characters: it has 129.");
    // Password managers that make one up still read the cap, from a hint that cuts nothing.
    expect(password.getAttribute("passwordrules")).toBe("minlength: 8; maxlength: 128;");
    fireEvent.click(screen.getByRole("button", { name: "Create account" }));
    await act(async () => {});
    expect(fetchMock).not.toHaveBeenCalled();
    expect(document.activeElement).toBe(password);
    // 128 emoji (256 UTF-16 units) are 128 characters: the most Users takes; a password is sent as typed, its spaces counted.
    typeInto(password, `${"😀".repeat(128)} `);
    expect(description(password)).toBe("Shorten this to 128 characters: it has 129.");
    typeInto(password, "😀".repeat(128));
    expect(password.getAttribute("aria-invalid")).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Create account" }));
    await waitFor(() => expect(fetchMock).toHaveBeenCalled());
    expect(JSON.parse(String(fetchMock.mock.calls[0][1]?.body)).password).toBe("😀".repeat(128));
  });

  it("register: Name, Email, Password and Create account", async () => {
    renderAt("/register");
    expect(await screen.findByRole("heading", { level: 1, name: "Create account" })).toBeTruthy();
    for (const label of ["Name", "Email", "Password"]) expect(screen.getByLabelText(label)).toBeTruthy();
    expect(screen.getByRole("button", { name: "Create account" })).toBeTruthy();
  });

  it("protected pages send a signed-out visitor to sign in", async () => {
    renderAt("/my/orders");
    expect(await screen.findByRole("heading", { level: 1, name: "Sign in" })).toBeTruthy();
  });

  it("admin pages say 'not authorised' to a non-admin and admin links are hidden", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    renderAt("/admin/inventory");
    expect(await screen.findByRole("heading", { level: 1, name: "Not authorised" })).toBeTruthy();
    expect(screen.getByRole("alert").textContent).toMatch(/not authorised/i);
    expect(screen.queryByRole("link", { name: "Webhooks" })).toBeNull();
  });

  it("admins see the admin navigation", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: admin });
    fetchMock.mockResolvedValue(json(200, { items: [], total: 0, limit: 25, offset: 0 }));
    renderAt("/admin/users");
    expect(await screen.findByRole("heading", { level: 1, name: "Users" })).toBeTruthy();
    for (const name of ["Inventory", "All orders", "Users", "Webhooks"]) {
      expect(screen.getAllByRole("link", { name }).length).toBeGreaterThan(0);
    }
  });

  it("catalogue: add to cart updates the Cart (n) link; disabled when out of stock", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    fetchMock.mockResolvedValue(
      json(200, {
        items: [
          { id: 1, sku: "MUG", name: "Mug", price: 8.5, qty: 3, created_at: "", updated_at: "" },
          { id: 2, sku: "CAP", name: "Cap", price: 12, qty: 0, created_at: "", updated_at: "" },
        ],
        total: 2,
        limit: 12,
        offset: 0,
      }),
    );
    renderAt("/catalog");
    const buttons = await screen.findAllByRole("button", { name: "Add to cart" });
    expect(buttons).toHaveLength(2);
    expect((buttons[1] as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByRole("link", { name: "Cart (0)" })).toBeTruthy();
    fireEvent.click(buttons[0]);
    fireEvent.click(buttons[0]);
    expect(screen.getByRole("link", { name: "Cart (2)" })).toBeTruthy();
    expect(String(fetchMock.mock.calls[0][0])).toContain("/inventory/?");
    // The catalogue's own region (a div), not the search box's (a p, there from the start for a search past its cap).
    const announced = () => document.querySelector("div[aria-live=polite].sr-only")?.textContent;
    expect(announced()).toBe("Mug added to cart: 2 in your cart.");
    fireEvent.click(buttons[0]); // the third of 3 in stock
    expect(announced()).toBe("Mug added to cart: 3 in your cart.");
    // With every unit in stock in the cart, another click would do nothing: the button says so instead.
    const mug = screen.getByRole("article", { name: "Mug" });
    const add = within(mug).getByRole("button", { name: "Add to cart" });
    expect(add.getAttribute("aria-disabled")).toBe("true"); // keeps focus, unlike a disabled button
    expect(description(add)).toBe("All 3 in stock are in your cart.");
    fireEvent.click(add);
    expect(screen.getByRole("link", { name: "Cart (3)" })).toBeTruthy();
  });

  it("catalogue: Add to cart stops at the 100 units an order may hold, saying why", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    localStorage.setItem("shop.cart.v1", JSON.stringify([{ sku: "CAP", name: "Cap", price: 12, qty: 99, stock: 500 }]));
    fetchMock.mockImplementation(async () => json(200, { items: [inventoryItem("MUG", 8.5, 500)], total: 1, limit: 12, offset: 0 }));
    renderAt("/catalog");
    const add = await screen.findByRole("button", { name: "Add to cart" });
    fireEvent.click(add); // the 100th unit
    expect(await screen.findByRole("link", { name: "Cart (100)" })).toBeTruthy();
    await waitFor(() => expect(add.getAttribute("aria-disabled")).toBe("true"));
    expect(description(add)).toBe("One order can hold at most 100 units; your cart has 100.");
  });

  it("cart: a quantity typed past the 100 units an order may hold keeps what fits, and says why", async () => {
    localStorage.setItem(
      "shop.cart.v1",
      JSON.stringify([{ sku: "MUG", name: "Mug", price: 8.5, qty: 60, stock: 500 }, { sku: "CAP", name: "Cap", price: 12, qty: 30, stock: 500 }]),
    );
    renderAt("/cart");
    const input = (await screen.findByRole("spinbutton", { name: "quantity of Cap" })) as HTMLInputElement;
    fireEvent.change(input, { target: { value: "50" } });
    fireEvent.keyDown(input, { key: "Enter" });
    await waitFor(() => expect(input.value).toBe("40"));
    expect(JSON.parse(localStorage.getItem("shop.cart.v1")!)[1].qty).toBe(40);
    expect(description(input)).toBe("At most 100 units per order.");
    expect(screen.getByRole("button", { name: "Increase quantity of Cap" }).getAttribute("aria-disabled")).toBe("true");
  });

  it("checkout: a cart of more than 100 units holds Place order, saying why, with a link to the cart", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    localStorage.setItem(
      "shop.cart.v1",
      JSON.stringify([{ sku: "MUG", name: "Mug", price: 8.5, qty: 90 }, { sku: "CAP", name: "Cap", price: 12, qty: 60 }]),
    );
    fetchMock.mockImplementation(async (input) => json(200, inventoryItem(String(input).slice("/inventory/".length), 8.5, 500)));
    renderAt("/checkout");
    const button = await screen.findByRole("button", { name: "Place order" });
    await waitFor(() =>
      expect(description(button)).toBe("One order can hold at most 100 units; your cart has 150. Lower the quantities to place your order."),
    );
    expect(button.getAttribute("aria-disabled")).toBe("true");
    expect(screen.getByRole("link", { name: "Edit your cart" })).toBeTruthy();
  });

  it("checkout: a 422 'Order too large' (the shop's cap set lower) offers Edit your cart and holds Place order until the cart changes", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    localStorage.setItem("shop.cart.v1", JSON.stringify([{ sku: "MUG", name: "Mug", price: 8.5, qty: 40 }]));
    const tooLarge = { status: 422, title: "Order too large", detail: "An order may hold at most 30 units in total; this one has 40. Lower the quantities or split the order." };
    checkoutFetch(8.5, async () => json(422, tooLarge, "application/problem+json"));
    renderAt("/checkout");
    fireEvent.click(await readyToOrder());
    expect((await screen.findByRole("alert")).textContent).toBe(tooLarge.detail);
    expect(await screen.findByRole("link", { name: "Edit your cart" })).toBeTruthy();
    const button = screen.getByRole("button", { name: "Place order" });
    await waitFor(() => expect(button.getAttribute("aria-disabled")).toBe("true"));
    expect(description(button)).toBe("Lower the quantities to place your order, as the message above says.");
    expect(spoken()).toEqual([tooLarge.detail]); // said once, by the alert
  });

  it("checkout: a double click places one order with one Idempotency-Key, then shows the order", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    localStorage.setItem("shop.cart.v1", JSON.stringify([{ sku: "MUG", name: "Mug", price: 8.5, qty: 2 }]));
    const order = {
      id: "3f2a9c1d-0000-4000-8000-000000000000",
      user_id: 2,
      status: "pending",
      total: 17,
      items: [{ sku: "MUG", name: "Mug", qty: 2, unit_price: 8.5, line_total: 17 }],
      created_at: "2026-01-01T00:00:00Z",
      updated_at: "2026-01-01T00:00:00Z",
    };
    let resolveOrder: (r: Response) => void = () => {};
    fetchMock.mockImplementation((input) => {
      const url = String(input);
      if (url === "/orders/") return new Promise<Response>((r) => (resolveOrder = r));
      if (url.endsWith("/events")) return Promise.resolve(json(200, [{ id: 1, order_id: order.id, event_type: "created", description: "Order created", old_value: null, new_value: "pending", user_id: 2, created_at: order.created_at }]));
      return Promise.resolve(json(200, order));
    });
    renderAt("/checkout");
    const button = await readyToOrder();
    fireEvent.click(button);
    fireEvent.click(button);
    await waitFor(() => expect(screen.getByRole("button", { name: "Place order" }).getAttribute("aria-disabled")).toBe("true"));
    const posts = fetchMock.mock.calls.filter(([u]) => String(u) === "/orders/");
    expect(posts).toHaveLength(1);
    const key = (posts[0][1]?.headers as Record<string, string>)["Idempotency-Key"];
    expect(key).toMatch(/^[0-9a-f-]{36}$/);
    // Between the answer and the order's page (its chunk may still be loading) the checkout never says the cart is empty.
    const saidEmpty: string[] = [];
    const watch = new MutationObserver(() => {
      if (document.body.textContent?.includes("Your cart is empty")) saidEmpty.push(document.body.textContent);
    });
    watch.observe(document.body, { childList: true, subtree: true, characterData: true });
    await act(async () => resolveOrder(json(201, order)));
    expect(await screen.findByRole("heading", { level: 1, name: "Order 3f2a9c1d" })).toBeTruthy();
    watch.disconnect();
    expect(saidEmpty).toEqual([]);
    expect(screen.getByRole("button", { name: "Cancel order" })).toBeTruthy();
    expect(await screen.findByText("Order placed")).toBeTruthy();
    expect(screen.getByRole("link", { name: "Cart (0)" })).toBeTruthy();
  });

  it("checkout: a 409 names the short items and a retry of a network failure reuses the key", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    localStorage.setItem("shop.cart.v1", JSON.stringify([{ sku: "MUG", name: "Mug", price: 8.5, qty: 5 }]));
    checkoutFetch(
      8.5,
      () => Promise.reject(new TypeError("Failed to fetch")),
      async () => json(409, { status: 409, title: "Insufficient stock", short_skus: ["MUG"] }, "application/problem+json"),
    );
    renderAt("/checkout");
    fireEvent.click(await readyToOrder());
    expect((await screen.findByRole("alert")).textContent).toMatch(/Cannot reach the shop/);
    fireEvent.click(await readyToOrder());
    expect((await screen.findByRole("alert", {})).textContent).toMatch(/Not enough stock for this item: MUG/);
    const keys = fetchMock.mock.calls.filter(([u]) => String(u) === "/orders/").map(([, init]) => (init?.headers as Record<string, string>)["Idempotency-Key"]);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
    expect(screen.getByText("Not enough stock")).toBeTruthy();
  });
  it("checkout: a key kept after a network failure ends with Sign out, as the cart does: the same items ordered after signing in again are a new order, not the old one answered again", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    const cart = JSON.stringify([{ sku: "MUG", name: "Mug", price: 8.5, qty: 1 }]);
    localStorage.setItem("shop.cart.v1", cart);
    const placed = anOrder({ total: 8.5, items: [{ sku: "MUG", name: "Mug", qty: 1, unit_price: 8.5, line_total: 8.5 }] });
    fetchMock.mockImplementation(async (input, init) => {
      const url = String(input);
      if (url.startsWith("/inventory/")) return json(200, inventoryItem("MUG", 8.5));
      if (url === "/users/login") return json(200, { access_token: "t2", token_type: "bearer", expires_in: 3600, user: customer });
      if (url === "/orders/" && init?.method === "POST") {
        // The first order may have been placed (its answer lost); the key kept says so, for a retry of that cart.
        if (posts().length === 1) throw new TypeError("Failed to fetch");
        return json(201, placed);
      }
      if (url.endsWith("/events")) return json(200, []);
      if (url.startsWith("/orders/")) return json(200, placed);
      return new Response(null, { status: 204 });
    });
    const posts = () => fetchMock.mock.calls.filter(([u, init]) => String(u) === "/orders/" && init?.method === "POST");
    const router = renderAt("/checkout");
    fireEvent.click(await readyToOrder());
    expect((await screen.findByRole("alert")).textContent).toMatch(/Cannot reach the shop/);
    // The shopper leaves the computer: Sign out empties the cart, and with it ends that checkout.
    await signOutAndSignInAs("bob@example.com");
    // Later, the same items again: a new order, sent with a key of its own (the old one would be answered the old order).
    act(() => localStorage.setItem("shop.cart.v1", cart));
    await act(() => router.navigate("/checkout"));
    fireEvent.click(await readyToOrder());
    await waitFor(() => expect(posts()).toHaveLength(2));
    const keys = posts().map(([, init]) => (init?.headers as Record<string, string>)["Idempotency-Key"]);
    expect(keys[1]).not.toBe(keys[0]);
  });

  it("checkout: a key kept after a network failure has an age of its own: the same cart ordered 20 minutes later is a new order, a retry after 10 minutes is not", async () => {
    checkoutWithOrdersLost(3);
    const start = Date.now();
    const clock = vi.spyOn(Date, "now");
    try {
      renderAt("/checkout");
      fireEvent.click(await readyToOrder());
      expect((await screen.findByRole("alert")).textContent).toMatch(/Cannot reach the shop/);
      clock.mockReturnValue(start + 10 * 60_000); // a retry: the first order may have been placed, its answer lost
      fireEvent.click(await readyToOrder());
      await waitFor(() => expect(keysSent()).toHaveLength(2));
      clock.mockReturnValue(start + 20 * 60_000); // no longer a retry: an order by that key may have expired meanwhile
      fireEvent.click(await readyToOrder());
      await waitFor(() => expect(keysSent()).toHaveLength(3));
      const keys = keysSent();
      expect(keys[1]).toBe(keys[0]);
      expect(keys[2]).not.toBe(keys[0]);
    } finally {
      clock.mockRestore();
    }
  });

  it("checkout: two checkout tabs of one shopper with the same cart send one key, so clicking in both places one order", async () => {
    checkoutWithOrdersLost(2);
    // Two tabs, both opened at checkout before either sent anything (each tab has its own memory and sessionStorage).
    renderAt("/checkout");
    renderAt("/checkout");
    const ready = () => screen.queryAllByRole("button", { name: "Place order" }).filter((b) => b.getAttribute("aria-disabled") === null);
    await waitFor(() => expect(ready()).toHaveLength(2));
    const [first, second] = ready();
    fireEvent.click(first);
    await waitFor(() => expect(keysSent()).toHaveLength(1));
    fireEvent.click(second);
    await waitFor(() => expect(keysSent()).toHaveLength(2));
    const keys = keysSent();
    expect(keys[1]).toBe(keys[0]);
  });

  it("checkout: a key kept after a network failure is not another user's: a tab whose session became another user's sends a key of its own", async () => {
    checkoutWithOrdersLost(2);
    renderAt("/checkout");
    fireEvent.click(await readyToOrder());
    expect((await screen.findByRole("alert")).textContent).toMatch(/Cannot reach the shop/);
    act(() => saveSession({ access_token: "t2", token_type: "bearer", expires_in: 3600, user: { ...customer, id: 3, email: "carol@example.com" } }));
    fireEvent.click(await readyToOrder());
    await waitFor(() => expect(keysSent()).toHaveLength(2));
    const keys = keysSent();
    expect(keys[1]).not.toBe(keys[0]);
  });

  it("checkout: a 409 for too many pending orders links to them, not to the cart", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    localStorage.setItem("shop.cart.v1", JSON.stringify([{ sku: "MUG", name: "Mug", price: 8.5, qty: 1 }]));
    const cap = {
      status: 409,
      title: "Too many pending orders",
      detail: "This account already has 10 pending orders, the most allowed at once. Cancel one you no longer want, or wait for one to be paid or to expire (30 minutes after it was placed), then order again.",
    };
    checkoutFetch(8.5, async () => json(409, cap, "application/problem+json"));
    const router = renderAt("/checkout");
    fireEvent.click(await readyToOrder());
    expect((await screen.findByRole("alert")).textContent).toBe(cap.detail);
    expect(screen.queryByRole("link", { name: "Edit your cart" })).toBeNull();
    fireEvent.click(await screen.findByRole("link", { name: "Your pending orders" }));
    await waitFor(() => expect(router.state.location.pathname + router.state.location.search).toBe("/my/orders?status=pending"));
  });
  it("checkout: a 409 that says to retry (the first request still in progress) keeps the key, so the retry cannot place a second order", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    localStorage.setItem("shop.cart.v1", JSON.stringify([{ sku: "MUG", name: "Mug", price: 8.5, qty: 1 }]));
    const inProgress = new Response(
      JSON.stringify({ status: 409, title: "Request in progress", detail: "A request with this Idempotency-Key is still being processed; retry shortly." }),
      { status: 409, headers: { "content-type": "application/problem+json", "retry-after": "1" } },
    );
    checkoutFetch(
      8.5,
      () => Promise.reject(new TypeError("Failed to fetch")),
      async () => inProgress,
      async () => json(409, { status: 409, title: "Request in progress" }, "application/problem+json"),
    );
    renderAt("/checkout");
    fireEvent.click(await readyToOrder());
    expect((await screen.findByRole("alert")).textContent).toMatch(/Cannot reach the shop/);
    fireEvent.click(await readyToOrder());
    expect((await screen.findByRole("alert", {})).textContent).toMatch(/still being (placed|processed)/);
    expect(screen.queryByRole("link", { name: "Edit your cart" })).toBeNull();
    fireEvent.click(await readyToOrder()); // the 409 had the stock read again
    const posts = () => fetchMock.mock.calls.filter(([u]) => String(u) === "/orders/");
    await waitFor(() => expect(posts()).toHaveLength(3));
    const keys = posts().map(([, init]) => (init?.headers as Record<string, string>)["Idempotency-Key"]);
    expect(new Set(keys).size).toBe(1);
  });
  it("checkout: after a 429 Place order waits out its Retry-After, saying so, then sends with the same key", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    localStorage.setItem("shop.cart.v1", JSON.stringify([{ sku: "MUG", name: "Mug", price: 8.5, qty: 1 }]));
    const tooMany = new Response(JSON.stringify({ status: 429, title: "Too many requests", detail: "Too many orders in a short time." }), {
      status: 429,
      headers: { "content-type": "application/problem+json", "retry-after": "1" },
    });
    checkoutFetch(8.5, async () => tooMany, async () => json(409, { status: 409, title: "Conflict" }, "application/problem+json"));
    renderAt("/checkout");
    fireEvent.click(await readyToOrder());
    expect((await screen.findByRole("alert")).textContent).toMatch(/Too many attempts/);
    const button = screen.getByRole("button", { name: "Place order" }) as HTMLButtonElement;
    // Held, and still focusable: a natively disabled button drops a keyboard user's focus to the page.
    expect(button.getAttribute("aria-disabled")).toBe("true");
    expect(button.disabled).toBe(false);
    expectHeldExplanation(button);
    fireEvent.click(await readyToOrder()); // enabled again once the second has passed
    const posts = () => fetchMock.mock.calls.filter(([u]) => String(u) === "/orders/");
    await waitFor(() => expect(posts()).toHaveLength(2));
    const keys = posts().map(([, init]) => (init?.headers as Record<string, string>)["Idempotency-Key"]);
    expect(new Set(keys).size).toBe(1);
  });
  it("checkout: a 429 is said once, by its alert: Place order's reason shows the wait without saying it again", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    localStorage.setItem("shop.cart.v1", JSON.stringify([{ sku: "MUG", name: "Mug", price: 8.5, qty: 1 }]));
    const tooMany = new Response(JSON.stringify({ status: 429, title: "Too Many Requests" }), {
      status: 429,
      headers: { "content-type": "application/problem+json", "retry-after": "840" },
    });
    checkoutFetch(8.5, async () => tooMany);
    renderAt("/checkout");
    fireEvent.click(await readyToOrder());
    await screen.findByRole("alert");
    const button = screen.getByRole("button", { name: "Place order" });
    await waitFor(() => expect(button.getAttribute("aria-disabled")).toBe("true"));
    expectHeldExplanation(button); // shown, as the button's description
    expect(spoken()).toEqual(["Too many attempts. Please try again in 14 minutes."]);
  });
  it("checkout: a Retry-After given as a date holds Place order until then, as the message says", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    localStorage.setItem("shop.cart.v1", JSON.stringify([{ sku: "MUG", name: "Mug", price: 8.5, qty: 1 }]));
    const tooMany = new Response(JSON.stringify({ status: 429, title: "Too many requests", detail: "Too many orders in a short time." }), {
      status: 429,
      headers: { "content-type": "application/problem+json", "retry-after": new Date(Date.now() + 120_000).toUTCString() },
    });
    checkoutFetch(8.5, async () => tooMany);
    renderAt("/checkout");
    fireEvent.click(await readyToOrder());
    expect((await screen.findByRole("alert")).textContent).toMatch(/Too many attempts\. Please try again in 2 minutes\./);
    expectHeldExplanation(screen.getByRole("button", { name: "Place order" }));
  });
  it("checkout: a 503 with a Retry-After says the shop's detail and the same time as the held Place order", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    localStorage.setItem("shop.cart.v1", JSON.stringify([{ sku: "MUG", name: "Mug", price: 8.5, qty: 1 }]));
    const detail = "This service's database is unavailable or overloaded. Try again shortly.";
    const unavailable = new Response(JSON.stringify({ status: 503, title: "Service temporarily unavailable", detail }), {
      status: 503,
      headers: { "content-type": "application/problem+json", "retry-after": "5" },
    });
    checkoutFetch(8.5, async () => unavailable);
    renderAt("/checkout");
    fireEvent.click(await readyToOrder());
    const alert = await screen.findByRole("alert");
    const button = screen.getByRole("button", { name: "Place order" });
    await waitFor(() => expect(button.getAttribute("aria-disabled")).toBe("true"));
    expectHeldExplanation(button);
    expect(alert.textContent).toBe(`${detail} ${description(button)}`);
  });
  it("checkout: a cart another tab wrote with other prices is read again, not written back (two checkouts would write each other's forever)", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    localStorage.setItem("shop.cart.v1", JSON.stringify([{ sku: "MUG", name: "Mug", price: 8.5, qty: 1 }]));
    checkoutFetch(8.5);
    renderAt("/checkout");
    await readyToOrder();
    const reads = () => fetchMock.mock.calls.filter(([u]) => String(u) === "/inventory/MUG").length;
    const before = reads();
    // Another tab's checkout, with reads older than ours, writes its price.
    const theirs = JSON.stringify([{ sku: "MUG", name: "Mug", price: 7, qty: 1, stock: 50 }]);
    act(() => {
      localStorage.setItem("shop.cart.v1", theirs);
      window.dispatchEvent(new StorageEvent("storage", { key: "shop.cart.v1", newValue: theirs }));
    });
    await waitFor(() => expect(reads()).toBe(before + 1));
    await readyToOrder();
    expect(JSON.parse(localStorage.getItem("shop.cart.v1")!)[0].price).toBe(8.5);
  });
  it("order: a cancel the shop refuses (shipped meanwhile) shows the order as it is now", async () => {
    openPendingOrder("shipped", refusedAsShipped);
    fireEvent.click(await screen.findByRole("button", { name: "Cancel order" }));
    // Final (stock back, subscribers told): one click only asks.
    expect(fetchMock.mock.calls.filter(([, init]) => init?.method === "PATCH")).toHaveLength(0);
    fireEvent.click(screen.getByRole("button", { name: "Confirm cancellation" }));
    expect((await screen.findByRole("alert")).textContent).toMatch(/cannot be cancelled/);
    await waitFor(() => expect(screen.queryByRole("button", { name: "Cancel order" })).toBeNull());
    expect(screen.getAllByText("Shipped").length).toBeGreaterThan(0);
  });
  it("checkout: a price changed since the item was added is shown, and the total is today's", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    localStorage.setItem("shop.cart.v1", JSON.stringify([{ sku: "MUG", name: "Mug", price: 8.5, qty: 2 }]));
    fetchMock.mockImplementation(async (input) =>
      String(input) === "/inventory/MUG"
        ? json(200, { id: 1, sku: "MUG", name: "Mug", price: 10, qty: 50, created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-02T00:00:00Z" })
        : json(404, { status: 404, title: "Not found" }, "application/problem+json"),
    );
    renderAt("/checkout");
    // A status among others (the app's Loading… while the page's code comes is one too).
    await waitFor(() => expect(screen.getAllByRole("status").map((s) => s.textContent)).toContainEqual(expect.stringMatching(/Mug.*\$8\.50.*\$10\.00/)));
    expect(screen.getAllByText("$20.00").length).toBeGreaterThan(0);
    expect(JSON.parse(localStorage.getItem("shop.cart.v1")!)[0].price).toBe(10);
  });

  it("checkout: Place order waits, saying why, until today's prices are read, so a quick click cannot order at a price not seen", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    localStorage.setItem("shop.cart.v1", JSON.stringify([{ sku: "MUG", name: "Mug", price: 8.5, qty: 2 }]));
    let answerRead: (r: Response) => void = () => {};
    fetchMock.mockImplementation((input) => {
      if (String(input) === "/inventory/MUG") return new Promise<Response>((r) => (answerRead = r)); // a slow network
      return Promise.resolve(json(201, {}));
    });
    renderAt("/checkout");
    const button = (await screen.findByRole("button", { name: "Place order" })) as HTMLButtonElement;
    expect(button.getAttribute("aria-disabled")).toBe("true");
    expect(description(button)).toBe("Checking today's prices…");
    expect(document.getElementById(button.getAttribute("aria-describedby")!)?.getAttribute("aria-live")).toBe("polite");
    fireEvent.click(button);
    await new Promise((r) => setTimeout(r, 0)); // had the click been taken, the order would have been sent by now
    expect(fetchMock.mock.calls.filter(([u]) => String(u) === "/orders/")).toHaveLength(0);
    await act(async () => answerRead(json(200, inventoryItem("MUG", 10))));
    expect(await readyToOrder()).toBe(button);
    expect(screen.getByRole("status").textContent).toMatch(/Mug.*\$8\.50.*\$10\.00/);
    expect(button.getAttribute("aria-describedby")).toBeNull();
  });

  it("checkout: an item no longer sold (404) is marked in words, and Place order waits until it is removed", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    localStorage.setItem(
      "shop.cart.v1",
      JSON.stringify([{ sku: "MUG", name: "Mug", price: 8.5, qty: 1 }, { sku: "CAP", name: "Cap", price: 12, qty: 1 }]),
    );
    fetchMock.mockImplementation(async (input) =>
      String(input) === "/inventory/MUG"
        ? json(200, inventoryItem("MUG", 8.5))
        : json(404, { status: 404, title: "Not found" }, "application/problem+json"),
    );
    renderAt("/checkout");
    const note = await screen.findByText("No longer sold — remove it to continue");
    expect(note.closest("tr")?.textContent).toContain("Cap");
    const button = screen.getByRole("button", { name: "Place order" }) as HTMLButtonElement;
    expect(button.getAttribute("aria-disabled")).toBe("true");
    expect(description(button)).toMatch(/no longer sold/i);
    fireEvent.click(screen.getByRole("button", { name: "Remove Cap" }));
    await readyToOrder();
    expect(JSON.parse(localStorage.getItem("shop.cart.v1")!).map((l: { sku: string }) => l.sku)).toEqual(["MUG"]);
  });

  it("checkout: a read that fails for now (503) is said in words, and Check again lets the order go once it answers", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    localStorage.setItem("shop.cart.v1", JSON.stringify([{ sku: "MUG", name: "Mug", price: 8.5, qty: 1 }]));
    let answering = false;
    fetchMock.mockImplementation(async () =>
      answering
        ? json(200, inventoryItem("MUG", 8.5))
        : json(503, { status: 503, title: "Service Unavailable" }, "application/problem+json"),
    );
    renderAt("/checkout");
    const again = await screen.findByRole("button", { name: "Check again" }); // after the query's own retry
    const button = screen.getByRole("button", { name: "Place order" }) as HTMLButtonElement;
    expect(button.getAttribute("aria-disabled")).toBe("true");
    expect(description(button)).toMatch(/temporarily unavailable/);
    expect(screen.getByText("Could not check today's price").closest("tr")?.textContent).toContain("Mug");
    answering = true;
    fireEvent.click(again);
    await readyToOrder();
    expect(screen.queryByText("Could not check today's price")).toBeNull();
    expect(screen.queryByRole("button", { name: "Check again" })).toBeNull();
  });

  it("cart: each line's stock is read anew when the cart is shown, so a restock lets the shopper add more and a fall is said there", async () => {
    // Stock as read when each was added: all 2 Mugs were taken then; 4 Caps were left. Since, Mugs were restocked and
    // Caps bought by others.
    signedInWithCart(
      [{ sku: "MUG", name: "Mug", price: 8.5, qty: 2, stock: 2 }, { sku: "CAP", name: "Cap", price: 12, qty: 3, stock: 4 }],
      { MUG: 50, CAP: 1 },
      () => json(200, {}),
    );
    renderAt("/cart");
    const more = await screen.findByRole("button", { name: "Increase quantity of Mug" });
    await waitFor(() => expect(more.getAttribute("aria-disabled")).toBeNull());
    expect(description(screen.getByRole("spinbutton", { name: "quantity of Cap" }))).toBe("Only 1 in stock.");
  });

  it("checkout: a line removed from the keyboard (gone or out of stock) leaves focus on the next Remove, else on Place order, and says what went", async () => {
    signedInWithCart(
      [
        { sku: "MUG", name: "Mug", price: 8.5, qty: 1 },
        { sku: "CAP", name: "Cap", price: 12, qty: 1 },
        { sku: "HAT", name: "Hat", price: 20, qty: 1 },
      ],
      { MUG: 0, CAP: 0, HAT: 5 },
      () => json(200, {}),
    );
    renderAt("/checkout");
    const mug = await screen.findByRole("button", { name: "Remove Mug" });
    const regions = [...document.querySelectorAll("[aria-live=polite]")]; // there before the words
    mug.focus();
    fireEvent.click(mug);
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole("button", { name: "Remove Cap" })));
    const said = await screen.findByText("Mug removed from your cart.");
    expect(regions).toContain(said.closest("[aria-live=polite]"));
    // No other line has a control: Place order, now free to go, is what comes next.
    fireEvent.click(screen.getByRole("button", { name: "Remove Cap" }));
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole("button", { name: "Place order" })));
    expect(await screen.findByText("Cap removed from your cart.")).toBeTruthy();
  });

  it("checkout: the cart's last line removed from the keyboard leaves focus on the words that the cart is empty", async () => {
    signedInWithCart([{ sku: "MUG", name: "Mug", price: 8.5, qty: 1 }], { MUG: 0 }, () => json(200, {}));
    renderAt("/checkout");
    await pressedLeavesFocusOnTheEmptyCart(await screen.findByRole("button", { name: "Remove Mug" }));
  });

  it("checkout: lines above today's stock are marked in words, and Place order waits until the cart fits", async () => {
    signedInWithCart(
      [{ sku: "MUG", name: "Mug", price: 8.5, qty: 5, stock: 9 }, { sku: "CAP", name: "Cap", price: 12, qty: 1, stock: 4 }],
      { MUG: 2, CAP: 0 },
      () => json(201, {}),
    );
    renderAt("/checkout");
    const mug = await screen.findByText("Only 2 in stock — lower the quantity");
    expect(mug.closest("tr")?.textContent).toContain("Mug");
    expect(screen.getByText("Out of stock — remove it to continue").closest("tr")?.textContent).toContain("Cap");
    const button = screen.getByRole("button", { name: "Place order" }) as HTMLButtonElement;
    expect(button.getAttribute("aria-disabled")).toBe("true");
    fireEvent.click(button);
    await new Promise((r) => setTimeout(r, 0)); // had the click been taken, the order would have been sent by now
    expect(fetchMock.mock.calls.filter(([u]) => String(u) === "/orders/")).toHaveLength(0);
    fireEvent.click(screen.getByRole("button", { name: "Remove Cap" }));
    await waitFor(() => expect(description(button)).toMatch(/lower the quantit/i));
    expect(button.getAttribute("aria-disabled")).toBe("true");
    // Nothing was lowered without a word: the shopper does it in the cart, which says why.
    fireEvent.click(screen.getByRole("link", { name: "Edit your cart" }));
    const input = (await screen.findByRole("spinbutton", { name: "quantity of Mug" })) as HTMLInputElement;
    expect(input.value).toBe("5");
    expect(description(input)).toBe("Only 2 in stock.");
    fireEvent.change(input, { target: { value: "2" } });
    fireEvent.keyDown(input, { key: "Enter" });
    fireEvent.click(screen.getByRole("link", { name: "Go to checkout" }));
    await readyToOrder();
    expect(screen.queryByText("Only 2 in stock — lower the quantity")).toBeNull();
  });

  it("sign out empties the cart and forgets the user's data, so the next person at the computer sees neither", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    localStorage.setItem("shop.cart.v1", JSON.stringify([{ sku: "MUG", name: "Mug", price: 8.5, qty: 2 }]));
    fetchMock.mockImplementation(async (input) =>
      String(input).startsWith("/orders/")
        ? json(200, { items: [{ id: "3f2a9c1d-0000-4000-8000-000000000000", user_id: 2, status: "pending", total: 17, items: [], created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z" }], total: 1, limit: 20, offset: 0 })
        : new Response(null, { status: 204 }),
    );
    const queryClient = createQueryClient();
    renderAt("/my/orders", queryClient);
    expect(await screen.findByRole("link", { name: "Order 3f2a9c1d" })).toBeTruthy();
    expect(screen.getByRole("link", { name: "Cart (2)" })).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Sign out" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Sign in" })).toBeTruthy();
    expect(screen.getByRole("link", { name: "Cart (0)" })).toBeTruthy();
    expect(JSON.parse(localStorage.getItem("shop.cart.v1") ?? "[]")).toEqual([]);
    expect(queryClient.getQueryCache().getAll().filter((q) => q.state.data !== undefined)).toEqual([]);
  });

  it("after Sign out, the next person to sign in starts at the catalogue, not on the page the last one left", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    const next = { ...customer, id: 3, name: "Cy", email: "cy@example.com" };
    serveOrder(() => ({ order: anOrder() }));
    const orders = fetchMock.getMockImplementation()!;
    fetchMock.mockImplementation(async (input, init) => {
      const url = String(input);
      if (url === "/users/logout") return new Response(null, { status: 204 });
      if (url === "/users/login") return json(200, { access_token: "t2", token_type: "bearer", expires_in: 3600, user: next });
      if (url.startsWith("/inventory/")) return json(200, { items: [], total: 0, limit: 12, offset: 0 });
      return orders(input, init);
    });
    renderAt(`/my/orders/${orderId}`);
    await screen.findByText("No events yet.");
    await signOutAndSignInAs("cy@example.com");
  });

  it("after Sign out, the next person's own link to a signed-in page still brings them back to it after sign in", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    serveOrder(() => ({ order: anOrder() }));
    const orders = fetchMock.getMockImplementation()!;
    fetchMock.mockImplementation(async (input, init) => {
      const url = String(input);
      if (url === "/users/logout") return new Response(null, { status: 204 });
      if (url === "/users/login") return json(200, { access_token: "t2", token_type: "bearer", expires_in: 3600, user: customer });
      if (url.startsWith("/inventory/")) return json(200, { items: [], total: 0, limit: 12, offset: 0 });
      return orders(input, init);
    });
    const router = renderAt("/catalog");
    fireEvent.click(await screen.findByRole("button", { name: "Sign out" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Sign in" })).toBeTruthy();
    // The next person opens a link of their own (an order's e-mail, a bookmark): the Sign out before is not about it.
    await act(() => router.navigate(`/my/orders/${orderId}`));
    expect(await screen.findByRole("heading", { level: 1, name: "Sign in" })).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Email"), { target: { value: "bob@example.com" } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "secret123" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByText("No events yet.")).toBeTruthy();
  });

  it("a session that ends because it cannot be refreshed forgets the user's data but keeps the cart for their next sign-in", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    localStorage.setItem("shop.cart.v1", JSON.stringify([{ sku: "MUG", name: "Mug", price: 8.5, qty: 2 }]));
    let ended = false;
    fetchMock.mockImplementation(async (input) => {
      const url = String(input);
      if (ended) return json(401, { status: 401, title: "Unauthorized" }, "application/problem+json");
      if (url.startsWith("/orders/")) return json(200, { items: [{ id: "3f2a9c1d-0000-4000-8000-000000000000", user_id: 2, status: "pending", total: 17, items: [], created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z" }], total: 1, limit: 20, offset: 0 });
      return json(200, { items: [], total: 0, limit: 12, offset: 0 });
    });
    const queryClient = createQueryClient();
    const router = renderAt("/my/orders", queryClient);
    expect(await screen.findByRole("link", { name: "Order 3f2a9c1d" })).toBeTruthy();
    ended = true; // signed out elsewhere: the access token and the refresh cookie are both refused now
    await act(() => router.navigate("/catalog"));
    expect(await screen.findByRole("heading", { level: 1, name: "Sign in" })).toBeTruthy();
    expect(screen.getByRole("link", { name: "Cart (2)" })).toBeTruthy();
    expect(queryClient.getQueryCache().getAll().filter((q) => q.state.data !== undefined)).toEqual([]);
  });

  it("a session that ends at Place order (its refresh refused) lands at sign in saying so, and signing in again returns to checkout with the cart", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    localStorage.setItem("shop.cart.v1", JSON.stringify([{ sku: "MUG", name: "Mug", price: 8.5, qty: 1 }]));
    const refused = async () => json(401, { status: 401, title: "Unauthorized" }, "application/problem+json");
    let signedIn = true;
    fetchMock.mockImplementation(async (input) => {
      const url = String(input);
      if (url === "/users/login") return json(200, { access_token: "t2", token_type: "bearer", expires_in: 3600, user: customer });
      if (url.startsWith("/inventory/")) return json(200, inventoryItem("MUG", 8.5));
      if (url === "/orders/") {
        signedIn = false; // signed out elsewhere: the access token and the refresh cookie are both refused now
        return refused();
      }
      return signedIn ? json(200, {}) : refused();
    });
    renderAt("/checkout");
    const button = await readyToOrder();
    const regions = [...document.querySelectorAll("[aria-live=polite]")]; // a region that comes with its words is often not read
    fireEvent.click(button);
    expect(await screen.findByRole("heading", { level: 1, name: "Sign in" })).toBeTruthy();
    const ended = "Your session has ended. Please sign in again.";
    await waitFor(() => expect(regions.map((r) => r.textContent)).toContain(ended));
    // Shown too, but said once: the words on the page are no live region of their own.
    const shown = screen.getAllByText(ended).filter((words) => !regions.some((r) => r.contains(words)));
    expect(shown).toHaveLength(1);
    expect(shown[0].closest("[role=status], [role=alert], [aria-live]")).toBeNull();
    fireEvent.change(screen.getByLabelText("Email"), { target: { value: "bob@example.com" } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "secret123" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Checkout" })).toBeTruthy();
    expect(screen.getByRole("link", { name: "Cart (1)" })).toBeTruthy();
  });

  it("a navigation moves focus to the new page's heading (a first load leaves it alone)", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    fetchMock.mockImplementation(async () => json(200, { items: [], total: 0, limit: 12, offset: 0 }));
    renderAt("/catalog");
    expect(await screen.findByRole("heading", { level: 1, name: "Catalogue" })).toBeTruthy();
    expect(document.activeElement).toBe(document.body);
    const link = screen.getByRole("link", { name: "My orders" });
    link.focus();
    fireEvent.pointerDown(link);
    fireEvent.click(link);
    const heading = await screen.findByRole("heading", { level: 1, name: "My orders" });
    await waitFor(() => expect(document.activeElement).toBe(heading));
    expect(heading.getAttribute("tabindex")).toBe("-1");
  });

  it("a first load that redirects (/ to the catalogue) leaves focus where the browser put it", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    fetchMock.mockImplementation(async () => json(200, { items: [], total: 0, limit: 12, offset: 0 }));
    renderAt("/");
    expect(await screen.findByRole("heading", { level: 1, name: "Catalogue" })).toBeTruthy();
    await new Promise((resolve) => setTimeout(resolve, 50)); // the effects after the redirect have run
    expect(document.activeElement).toBe(document.body);
  });

  it("cart: a quantity typed past the stock shows what the cart holds, and says why", async () => {
    localStorage.setItem("shop.cart.v1", JSON.stringify([{ sku: "MUG", name: "Mug", price: 8.5, qty: 3, stock: 3 }]));
    renderAt("/cart");
    const input = (await screen.findByRole("spinbutton", { name: "quantity of Mug" })) as HTMLInputElement;
    fireEvent.change(input, { target: { value: "10" } });
    fireEvent.keyDown(input, { key: "Enter" });
    fireEvent.blur(input); // commits again: the note stays
    expect(JSON.parse(localStorage.getItem("shop.cart.v1")!)[0].qty).toBe(3);
    expect(input.value).toBe("3");
    const why = document.getElementById(input.getAttribute("aria-describedby") ?? "");
    expect(why?.textContent).toBe("Only 3 in stock.");
    expect(why?.getAttribute("aria-live")).toBe("polite");
  });

  it("cart: − and + pressed from the keyboard up to a line's limits keep focus, and a press past them changes nothing", async () => {
    localStorage.setItem("shop.cart.v1", JSON.stringify([{ sku: "MUG", name: "Mug", price: 8.5, qty: 2, stock: 3 }]));
    renderAt("/cart");
    const qty = () => JSON.parse(localStorage.getItem("shop.cart.v1")!)[0].qty;
    // A natively disabled button drops a keyboard user's focus to the page (Chromium did, at 1 and at the stock): it stays
    // focusable and says it is unavailable (aria-disabled).
    const fewer = (await screen.findByRole("button", { name: "Decrease quantity of Mug" })) as HTMLButtonElement;
    fewer.focus();
    fireEvent.click(fewer);
    expect(qty()).toBe(1);
    expect(fewer.disabled).toBe(false);
    expect(fewer.getAttribute("aria-disabled")).toBe("true");
    expect(document.activeElement).toBe(fewer);
    fireEvent.click(fewer);
    expect(qty()).toBe(1); // not removed: that is Remove's
    const more = screen.getByRole("button", { name: "Increase quantity of Mug" }) as HTMLButtonElement;
    more.focus();
    fireEvent.click(more);
    fireEvent.click(more);
    expect(qty()).toBe(3);
    expect(more.disabled).toBe(false);
    expect(more.getAttribute("aria-disabled")).toBe("true");
    expect(document.activeElement).toBe(more);
    fireEvent.click(more);
    expect(qty()).toBe(3);
    expect(fewer.getAttribute("aria-disabled")).toBeNull();
  });

  it("cart: a line removed from the keyboard leaves focus on the next line (else the one before) and says what went; the last one on the words that the cart is empty", async () => {
    localStorage.setItem(
      "shop.cart.v1",
      JSON.stringify([
        { sku: "MUG", name: "Mug", price: 8.5, qty: 1, stock: 3 },
        { sku: "CAP", name: "Cap", price: 12, qty: 2, stock: 4 },
        { sku: "HAT", name: "Hat", price: 20, qty: 1, stock: 4 },
      ]),
    );
    renderAt("/cart");
    const line = (name: string) => screen.getByRole("spinbutton", { name: `quantity of ${name}` }).closest("li")!;
    const remove = (await screen.findByRole("button", { name: "Remove Mug" })) as HTMLButtonElement;
    const regions = [...document.querySelectorAll("[aria-live=polite]")]; // there before the words
    remove.focus();
    fireEvent.click(remove);
    expect(screen.queryByRole("button", { name: "Remove Mug" })).toBeNull();
    expect(line("Cap").contains(document.activeElement)).toBe(true);
    const said = await screen.findByText("Mug removed from your cart.");
    expect(regions).toContain(said.closest("[aria-live=polite]"));
    // A quantity typed as 0 removes its line too: the last line's removal moves focus back to the one before.
    const hats = screen.getByRole("spinbutton", { name: "quantity of Hat" });
    hats.focus();
    fireEvent.change(hats, { target: { value: "0" } });
    fireEvent.keyDown(hats, { key: "Enter" });
    expect(screen.queryByRole("spinbutton", { name: "quantity of Hat" })).toBeNull();
    expect(line("Cap").contains(document.activeElement)).toBe(true);
    expect(await screen.findByText("Hat removed from your cart.")).toBeTruthy();
    // The only line left: focus goes to the words the page has in its place.
    await pressedLeavesFocusOnTheEmptyCart(screen.getByRole("button", { name: "Remove Cap" }));
  });

  it("cart: Empty cart pressed from the keyboard leaves focus on the words that the cart is empty", async () => {
    localStorage.setItem("shop.cart.v1", JSON.stringify([{ sku: "MUG", name: "Mug", price: 8.5, qty: 1, stock: 3 }]));
    renderAt("/cart");
    await pressedLeavesFocusOnTheEmptyCart(await screen.findByRole("button", { name: "Empty cart" }));
  });

  it("cart: an empty cart opened by a link leaves focus to the navigation (no words take it)", async () => {
    renderAt("/cart");
    await screen.findByText("Your cart is empty");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(document.activeElement).toBe(document.body);
  });

  it("catalogue: an item restocked meanwhile shows in stock once the shopper comes back to the window, without a read on every return", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    let qty = 0;
    fetchMock.mockImplementation(async () => json(200, { items: [{ id: 1, sku: "MUG", name: "Mug", price: 8.5, qty, created_at: "", updated_at: "" }], total: 1, limit: 12, offset: 0 }));
    const reads = () => fetchMock.mock.calls.filter(([u]) => String(u).startsWith("/inventory/?")).length;
    const comeBack = () => act(() => void document.dispatchEvent(new Event("visibilitychange", { bubbles: true })));
    const start = Date.now();
    const clock = vi.spyOn(Date, "now");
    try {
      renderAt("/catalog");
      const mug = await screen.findByRole("article", { name: "Mug" });
      expect(within(mug).getByText("Out of stock")).toBeTruthy();
      qty = 8;
      // Back at once (a glance at another tab): what was just read is shown, not read again.
      clock.mockReturnValue(start + 5_000);
      comeBack();
      await act(async () => {});
      expect(reads()).toBe(1);
      // Back a minute later: the stock is read again, and the restock shows.
      clock.mockReturnValue(start + 60_000);
      comeBack();
      expect(await within(mug).findByText("8 in stock")).toBeTruthy();
      expect(reads()).toBe(2);
    } finally {
      clock.mockRestore();
    }
  });

  it("catalogue: a failed re-read keeps the items shown and says they may be out of date", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    let down = false;
    fetchMock.mockImplementation(async () =>
      down
        ? tooManyRequests()
        : json(200, { items: [{ id: 1, sku: "MUG", name: "Mug", price: 8.5, qty: 3, created_at: "", updated_at: "" }], total: 1, limit: 12, offset: 0 }),
    );
    const queryClient = createQueryClient();
    renderAt("/catalog", queryClient);
    await screen.findByRole("article", { name: "Mug" });
    down = true;
    await act(() => queryClient.refetchQueries({ queryKey: ["inventory"] }));
    const note = await screen.findByText(/Too many attempts/);
    expect(screen.getByRole("article", { name: "Mug" })).toBeTruthy();
    expect(note.textContent).toBe("Could not refresh the catalogue, so what is shown may be out of date. Too many attempts. Please try again later.");
  });

  it("catalogue: a next page that cannot be read says why, with Try again, and keeps the pager to go back by", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    const first = Array.from({ length: 12 }, (_, i) => ({ ...inventoryItem(`MUG${i}`, 8.5, 5, `Mug ${i}`), id: i + 1 }));
    let down = true;
    fetchMock.mockImplementation(async (input) => {
      const offset = Number(new URL(String(input), "http://shop.test").searchParams.get("offset") ?? 0);
      if (offset === 12 && down) return tooManyRequests();
      return json(200, { items: offset === 12 ? [inventoryItem("CAP", 12, 4, "Cap")] : first, total: 13, limit: 12, offset });
    });
    renderAt("/catalog");
    await screen.findByRole("article", { name: "Mug 0" });
    const pager = () => screen.getByRole("navigation", { name: "Catalogue pages" });
    fireEvent.click(within(pager()).getByRole("button", { name: "Next" }));
    expect((await screen.findByRole("alert")).textContent).toMatch(/Too many attempts/);
    expect(pager().textContent).toContain("Page 2 of 2");
    down = false;
    fireEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByRole("article", { name: "Cap" })).toBeTruthy();
  });

  it("catalogue: a page refused with a 429 holds its Try again until the Retry-After has passed, and says until when", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    const first = Array.from({ length: 12 }, (_, i) => ({ ...inventoryItem(`MUG${i}`, 8.5, 5, `Mug ${i}`), id: i + 1 }));
    fetchMock.mockImplementation(async (input) => {
      const offset = Number(new URL(String(input), "http://shop.test").searchParams.get("offset") ?? 0);
      if (offset === 12) return appTooManyRequests("30");
      return json(200, { items: first, total: 13, limit: 12, offset });
    });
    renderAt("/catalog");
    await screen.findByRole("article", { name: "Mug 0" });
    fireEvent.click(within(screen.getByRole("navigation", { name: "Catalogue pages" })).getByRole("button", { name: "Next" }));
    await screen.findByRole("alert");
    const tryAgain = await screen.findByRole("button", { name: "Try again" });
    await waitFor(() => expect(tryAgain.getAttribute("aria-disabled")).toBe("true"));
    expectHeldExplanation(tryAgain);
    const sent = fetchMock.mock.calls.length;
    fireEvent.click(tryAgain);
    await act(async () => {});
    expect(fetchMock.mock.calls.length).toBe(sent);
  });

  it("order: a failed re-read keeps the order and its timeline shown, Cancel order included, and says so", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    serveOrder(() => ({ order: anOrder(), events: [orderPlaced] }));
    const queryClient = createQueryClient();
    renderAt(`/my/orders/${orderId}`, queryClient);
    expect(await screen.findByText("Order placed")).toBeTruthy();
    fetchMock.mockImplementation(async () => tooManyRequests());
    await act(() => queryClient.refetchQueries({ queryKey: queryKeys.order(orderId) }));
    const note = await screen.findByText(/Too many attempts/);
    expect(screen.getByRole("heading", { level: 1, name: "Order 3f2a9c1d" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Cancel order" })).toBeTruthy();
    expect(screen.getByText("Order placed")).toBeTruthy();
    expect(note.textContent).toBe("Could not refresh this order, so what is shown may be out of date. Too many attempts. Please try again later.");
    // The timeline's own re-read failing keeps its events too.
    await act(() => queryClient.refetchQueries({ queryKey: queryKeys.orderEvents(orderId) }));
    await waitFor(() => expect(screen.getAllByText(/Too many attempts/)).toHaveLength(2));
    expect(screen.getByText("Order placed")).toBeTruthy();
    expect(screen.getByText(/^Could not refresh the timeline, so what is shown may be out of date/)).toBeTruthy();
  });

  it("my orders: an order paid meanwhile shows as paid when the shopper comes back to the list", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    let order = anOrder();
    serveOrder(() => ({ order }));
    const router = renderAt("/my/orders");
    fireEvent.click(await screen.findByRole("link", { name: "Order 3f2a9c1d" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Order 3f2a9c1d" })).toBeTruthy();
    order = anOrder({ status: "paid" }); // an admin marks it paid
    fireEvent.click(screen.getByRole("link", { name: "← My orders" }));
    await waitFor(() => expect(router.state.location.pathname).toBe("/my/orders"));
    const row = (await screen.findByRole("link", { name: "Order 3f2a9c1d" })).closest("tr")!;
    await waitFor(() => expect(row.textContent).toContain("Paid"));
  });

  it("my orders: an admin sees their own orders there, not every customer's", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: admin });
    // Orders answers an admin's list without user_id with everyone's orders (the customer's order 3f2a9c1d here).
    fetchMock.mockImplementation(async (input) => {
      const mine = new URL(String(input), "http://shop.test").searchParams.get("user_id") === "1";
      return json(200, { items: mine ? [] : [anOrder()], total: mine ? 0 : 1, limit: 20, offset: 0 });
    });
    renderAt("/my/orders");
    expect(await screen.findByText("You have no orders yet")).toBeTruthy();
    expect(screen.queryByRole("link", { name: "Order 3f2a9c1d" })).toBeNull();
  });

  it("my orders: '← My orders' goes back to the list as it was left, its filter and page", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    serveOrder(() => ({ order: anOrder({ status: "paid" }), page: { total: 45, offset: 20 } }));
    const router = renderAt("/my/orders?status=paid&offset=20");
    fireEvent.click(await screen.findByRole("link", { name: "Order 3f2a9c1d" }));
    fireEvent.click(await screen.findByRole("link", { name: "← My orders" }));
    await waitFor(() => expect(router.state.location.pathname).toBe("/my/orders"));
    expect(router.state.location.search).toBe("?status=paid&offset=20");
    expect(await screen.findByText("Page 2 of 3")).toBeTruthy();
  });

  it("order: the tab is titled with the order at once, not left with the last page's title while the order is read", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    fetchMock.mockImplementation(() => new Promise<Response>(() => {})); // the order still on its way
    document.title = "Catalogue · Shop";
    renderAt(`/my/orders/${orderId}`);
    expect(await screen.findByText("Loading the order…")).toBeTruthy();
    // The title is set by an effect, which React may run just after the text is on the page; the order is still
    // being read either way (its fetch never answers).
    await waitFor(() => expect(document.title).toBe("Order 3f2a9c1d · Shop"));
    expect(screen.getByText("Loading the order…")).toBeTruthy();
  });

  it("order: a link cut to the order's short name (not a UUID) says there is no such order, without asking the shop", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    // What Orders' fallback answers a path its {id:guid} route does not match: words for a developer.
    fetchMock.mockImplementation(async (input) =>
      json(404, { status: 404, title: "Not Found", detail: `Nothing here answers GET ${String(input)}. Check the path against the API reference (/api-docs).` }, "application/problem+json"),
    );
    renderAt("/my/orders/3f2a9c1d");
    expect(await screen.findByRole("heading", { level: 1, name: "No such order" })).toBeTruthy();
    expect(screen.getByRole("link", { name: "← My orders" })).toBeTruthy();
    expect(document.body.textContent).not.toContain("api-docs");
    expect(fetchMock.mock.calls.filter(([u]) => String(u).startsWith("/orders/"))).toEqual([]);
  });

  it("order: an order the shop does not find (404) is said in a shopper's words, not the server's", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    fetchMock.mockImplementation(async (input) =>
      json(404, { status: 404, title: "Not Found", detail: `Nothing here answers GET ${String(input)}. Check the path against the API reference (/api-docs).` }, "application/problem+json"),
    );
    renderAt(`/my/orders/${orderId}`);
    expect(await screen.findByRole("heading", { level: 1, name: "No such order" })).toBeTruthy();
    expect(screen.getByRole("alert").textContent).toBe("There is no order at this address that you can open. Check the link, or find the order in the list.");
    expect(screen.getByRole("link", { name: "← My orders" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Try again" })).toBeNull();
  });

  it("order: a pending order's page shows it paid once the window has the focus again", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    let order = anOrder();
    serveOrder(() => ({ order }));
    renderAt(`/my/orders/${orderId}`);
    expect(await screen.findByRole("button", { name: "Cancel order" })).toBeTruthy();
    expect(screen.getByText("Pending")).toBeTruthy();
    order = anOrder({ status: "paid" });
    // The shopper comes back to the tab (React Query listens for visibilitychange).
    act(() => {
      document.dispatchEvent(new Event("visibilitychange", { bubbles: true }));
    });
    expect(await screen.findByText("Paid")).toBeTruthy();
  });

  it("order: a pending order's page left open reads it again when its expires_at passes", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
      const expiresAt = new Date(Date.now() + 15 * 60_000).toISOString();
      let order = anOrder({ expires_at: expiresAt });
      let events: unknown[] = [];
      serveOrder(() => ({ order, events }));
      renderAt(`/my/orders/${orderId}`);
      expect(await screen.findByText(/^Expires at .* unless it is paid\.$/)).toBeTruthy();
      // The server's sweep expires it (every 15 s): the first read after the deadline may still find it pending.
      await vi.advanceTimersByTimeAsync(15 * 60_000);
      order = anOrder({ status: "expired", expires_at: null });
      events = [{ id: 2, order_id: orderId, event_type: "status_changed", description: "", old_value: "pending", new_value: "expired", user_id: null, created_at: expiresAt }];
      await vi.advanceTimersByTimeAsync(15_000);
      expect(await screen.findByText(/has expired/)).toBeTruthy();
      expect(screen.queryByRole("button", { name: "Cancel order" })).toBeNull();
      // The timeline follows: the expiry is in it too.
      expect(await screen.findByText("Status changed from pending to expired")).toBeTruthy();
    } finally {
      vi.useRealTimers();
    }
  });

  it("catalogue: the search box follows the URL, so the Catalogue link that clears the search clears the box too", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    fetchMock.mockImplementation(async () => json(200, { items: [], total: 0, limit: 12, offset: 0 }));
    const router = renderAt("/catalog?q=mug");
    const box = (await screen.findByRole("searchbox", { name: "Search" })) as HTMLInputElement;
    expect(box.value).toBe("mug");
    fireEvent.click(screen.getByRole("link", { name: "Catalogue" }));
    await waitFor(() => expect(router.state.location.search).toBe(""));
    await waitFor(() => expect(box.value).toBe(""));
    // The box's own (debounced) search must not put the old query back.
    await new Promise((r) => setTimeout(r, 400));
    expect(router.state.location.search).toBe("");
    expect(box.value).toBe("");
    // And what is typed still goes to the URL, the box keeping it.
    fireEvent.change(box, { target: { value: "cap" } });
    await waitFor(() => expect(router.state.location.search).toBe("?q=cap"));
    expect(box.value).toBe("cap");
  });

  it("catalogue: a search longer than Inventory takes (100) is said on the box and not asked, and the items shown stay", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    // As Inventory answers a q of more than 100 characters (ItemValidation.Search).
    fetchMock.mockImplementation(async (input) => {
      const q = new URL(String(input), "http://shop.test").searchParams.get("q") ?? "";
      return q.length > 100
        ? json(400, { status: 400, title: "One or more validation errors occurred.", errors: { q: ["Must be at most 100 characters."] } }, "application/problem+json")
        : json(200, { items: [inventoryItem("MUG", 5)], total: 1, limit: 12, offset: 0 });
    });
    const router = renderAt("/catalog");
    await screen.findByRole("heading", { name: "Mug" });
    const box = await screen.findByRole("searchbox", { name: "Search" });
    // A product's whole description pasted from another site.
    const pasted = "Stoneware mug with a matte glaze, dishwasher and microwave safe, 350 ml, hand-painted blue rim, set of two";
    expect(pasted.length).toBeGreaterThan(100);
    typeInto(box, pasted);
    await new Promise((r) => setTimeout(r, 400)); // past the box's pause before it searches
    expect(box.getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByText(`Shorten this to 100 characters: it has ${pasted.length}.`)).toBeTruthy();
    expect(fetchMock.mock.calls.map(([u]) => String(u)).filter((u) => u.includes("q="))).toEqual([]);
    expect(router.state.location.search).toBe("");
    expect(screen.getByRole("heading", { name: "Mug" })).toBeTruthy();
  });

  it("catalogue: a page past the end (items deleted meanwhile) moves to the last page there is", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    const cap = { id: 2, sku: "CAP", name: "Cap", price: 12, qty: 4, created_at: "", updated_at: "" };
    fetchMock.mockImplementation(async (input) => {
      const offset = Number(new URL(String(input), "http://shop.test").searchParams.get("offset") ?? 0);
      return json(200, { items: offset === 12 ? [cap] : [], total: 13, limit: 12, offset });
    });
    const router = renderAt("/catalog?offset=24");
    // Never "The catalogue is empty" on the way (the earlier page is still coming): watched on every change of the page.
    const saidEmpty: string[] = [];
    const watch = new MutationObserver(() => {
      if (document.body.textContent?.includes("The catalogue is empty")) saidEmpty.push(document.body.textContent);
    });
    watch.observe(document.body, { childList: true, subtree: true, characterData: true });
    expect(await screen.findByRole("article", { name: "Cap" })).toBeTruthy();
    watch.disconnect();
    expect(saidEmpty).toEqual([]);
    expect(router.state.location.search).toBe("?offset=12");
    expect(screen.getByRole("navigation", { name: "Catalogue pages" }).textContent).toContain("13–13 of 13");
  });

  it("order: Confirm cancellation pressed from the keyboard leaves focus on the words that say so, in a live region already there", async () => {
    openPendingOrder("cancelled", (order) => json(200, order));
    const cancel = await screen.findByRole("button", { name: "Cancel order" });
    await screen.findByText("No events yet.");
    const regions = screen.getAllByRole("status"); // before any words: a region added with its words is often not read
    cancel.focus();
    fireEvent.click(cancel);
    fireEvent.click(screen.getByRole("button", { name: "Confirm cancellation" }));
    const words = await screen.findByText("The order was cancelled and its items were returned to stock.");
    // The button is gone: focus is on the words, not on the page.
    await waitFor(() => expect(document.activeElement).toBe(words.closest("[role=status]")));
    expect(regions).toContain(words.closest("[role=status]"));
    expect(screen.queryByRole("button", { name: "Confirm cancellation" })).toBeNull();
  });

  it("order: a cancellation that ends after the user moved on leaves focus where they took it", async () => {
    let answerCancel: () => void = () => {};
    openPendingOrder("cancelled", (order) => new Promise<Response>((r) => (answerCancel = () => r(json(200, order)))));
    const elsewhere = await cancelThenMoveOn();
    answerCancel();
    expect(await screen.findByText("The order was cancelled and its items were returned to stock.")).toBeTruthy();
    expect(document.activeElement).toBe(elsewhere);
  });

  it("order: a cancel refused from the keyboard (shipped meanwhile) leaves focus on the error once the button is gone", async () => {
    openPendingOrder("shipped", refusedAsShipped);
    const cancel = await screen.findByRole("button", { name: "Cancel order" });
    cancel.focus();
    fireEvent.click(cancel);
    fireEvent.click(screen.getByRole("button", { name: "Confirm cancellation" }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toMatch(/cannot be cancelled/);
    await waitFor(() => expect(screen.queryByRole("button", { name: "Confirm cancellation" })).toBeNull());
    expect(screen.getAllByText("Shipped").length).toBeGreaterThan(0);
    expect(document.activeElement).toBe(alert);
  });

  it("order: a cancel refused after the user moved on leaves focus where they took it", async () => {
    let refuse: () => void = () => {};
    openPendingOrder("shipped", () => new Promise<Response>((r) => (refuse = () => r(refusedAsShipped()))));
    const elsewhere = await cancelThenMoveOn();
    refuse();
    expect((await screen.findByRole("alert")).textContent).toMatch(/cannot be cancelled/);
    await waitFor(() => expect(screen.queryByRole("button", { name: "Confirm cancellation" })).toBeNull());
    expect(document.activeElement).toBe(elsewhere);
  });

  it("order: a cancel answered after the page went on to another order (the address changed, the page still open) is neither shown nor said as that order's", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    const otherId = "7b1e0c44-0000-4000-8000-000000000000";
    const orders: Record<string, Record<string, unknown>> = { [orderId]: anOrder(), [otherId]: anOrder({ id: otherId, total: 9 }) };
    let answerCancel: () => void = () => {};
    let slowReads = false;
    fetchMock.mockImplementation(async (input, init) => {
      const url = String(input);
      if (url.endsWith("/events")) return json(200, []);
      const id = decodeURIComponent(url.slice("/orders/".length));
      if (init?.method === "PATCH") return new Promise<Response>((r) => (answerCancel = () => r(json(200, (orders[id] = { ...orders[id], status: "cancelled" })))));
      // Once the cancel is answered, reads are slow: what the page shows meanwhile is what its cache holds.
      return slowReads ? new Promise<Response>(() => {}) : json(200, orders[id]);
    });
    const queryClient = createQueryClient();
    const router = renderAt(`/my/orders/${orderId}`, queryClient);
    fireEvent.click(await screen.findByRole("button", { name: "Cancel order" }));
    fireEvent.click(screen.getByRole("button", { name: "Confirm cancellation" }));
    await waitFor(() => expect(fetchMock.mock.calls.some(([, init]) => init?.method === "PATCH")).toBe(true));
    // While the cancel is on its way, the address changes to another order's (a link, Back or Forward between the two).
    await act(() => router.navigate(`/my/orders/${otherId}`));
    expect(await screen.findByRole("heading", { level: 1, name: "Order 7b1e0c44" })).toBeTruthy();
    const reads = () => fetchMock.mock.calls.filter(([u, init]) => String(u) === `/orders/${otherId}` && init?.method === "GET").length;
    const before = reads();
    slowReads = true;
    answerCancel();
    // The answer is in once the orders on screen are read again (the cancel's invalidation), and rendered.
    await waitFor(() => expect(reads()).toBe(before + 1));
    await act(() => new Promise((r) => setTimeout(r, 20)));
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("Order 7b1e0c44");
    expect(spoken()).not.toContain("The order was cancelled and its items were returned to stock.");
    expect(screen.getByText("Pending")).toBeTruthy();
    // The cancelled order's own page has it as the shop answered.
    expect(queryClient.getQueryData(queryKeys.order(orderId))).toMatchObject({ status: "cancelled" });
  });

  it("order: Cancel order pressed on one order's page is not carried to the next order's (the address changed, the page still open): there it asks again", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    const otherId = "7b1e0c44-0000-4000-8000-000000000000";
    const orders: Record<string, Record<string, unknown>> = { [orderId]: anOrder(), [otherId]: anOrder({ id: otherId, total: 9 }) };
    fetchMock.mockImplementation(async (input) => {
      const url = String(input);
      return json(200, url.endsWith("/events") ? [] : orders[decodeURIComponent(url.slice("/orders/".length))]);
    });
    const router = renderAt(`/my/orders/${otherId}`);
    expect(await screen.findByRole("heading", { level: 1, name: "Order 7b1e0c44" })).toBeTruthy();
    await act(() => router.navigate(`/my/orders/${orderId}`));
    expect(await screen.findByRole("heading", { level: 1, name: "Order 3f2a9c1d" })).toBeTruthy();
    fireEvent.click(await screen.findByRole("button", { name: "Cancel order" }));
    expect(screen.getByRole("button", { name: "Confirm cancellation" })).toBeTruthy();
    // Back to the order before, which the cache still holds: one more press must not cancel it without being asked.
    await act(() => router.navigate(-1));
    expect(await screen.findByRole("heading", { level: 1, name: "Order 7b1e0c44" })).toBeTruthy();
    expect(screen.getByRole("button", { name: /^(Cancel order|Confirm cancellation)$/ }).textContent).toBe("Cancel order");
    expect(fetchMock.mock.calls.filter(([, init]) => init?.method === "PATCH")).toHaveLength(0);
  });

  it("catalogue: a search's new results are said once, in words, by a live region already on the page", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    const mug = inventoryItem("MUG", 8.5);
    const others = Array.from({ length: 12 }, (_, i) => ({ ...inventoryItem(`CAP${i}`, 12, 5, `Cap ${i}`), id: i + 2 }));
    fetchMock.mockImplementation(async (input) => {
      const q = new URL(String(input), "http://shop.test").searchParams.get("q");
      const items = q === "mug" ? [mug] : q ? [] : others;
      return json(200, { items, total: q ? items.length : 30, limit: 12, offset: 0 });
    });
    renderAt("/catalog");
    await screen.findByRole("article", { name: "Cap 0" });
    const regions = [...document.querySelectorAll("[aria-live=polite]")]; // before any words: a region added with its words is often not read
    fireEvent.change(screen.getByRole("searchbox", { name: "Search" }), { target: { value: "mug" } });
    const said = await screen.findByText("1 result.");
    const region = said.closest("[aria-live=polite]");
    expect(regions).toContain(region);
    // Said once: other renders (the cart changing) say nothing more.
    const additions: Node[] = [];
    const watch = new MutationObserver((records) => records.forEach((r) => additions.push(...r.addedNodes)));
    watch.observe(region!, { childList: true, subtree: true, characterData: true });
    fireEvent.click(screen.getByRole("button", { name: "Add to cart" }));
    await new Promise((r) => setTimeout(r, 0));
    expect(additions).toEqual([]);
    fireEvent.change(screen.getByRole("searchbox", { name: "Search" }), { target: { value: "zzz" } });
    expect(await screen.findByText("No items match your search")).toBeTruthy();
    await waitFor(() => expect(region?.textContent).toBe("No results."));
    watch.disconnect();
  });

  it("order: the thanks for placing it are said right after placing only: not when its page is reloaded, or come back to with Back", async () => {
    saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: customer });
    serveOrder(() => ({ order: anOrder() }));
    const thanks = "Thank you! Your order has been placed.";
    const router = renderAt("/my/orders");
    await screen.findByRole("heading", { level: 1, name: "My orders" });
    // As the checkout opens it once the order is placed.
    await act(() => router.navigate(`/my/orders/${orderId}`, { state: { placed: true } }));
    expect(await screen.findByText(thanks)).toBeTruthy();
    // The browser keeps an entry's state through a reload and Back/Forward: the thanks must not be in it any more.
    await waitFor(() => expect((router.state.location.state as { placed?: boolean } | null)?.placed).toBeUndefined());
    expect(screen.getByText(thanks)).toBeTruthy(); // still shown on this visit
    await act(() => router.navigate(-1));
    await screen.findByRole("heading", { level: 1, name: "My orders" });
    await act(() => router.navigate(1));
    expect(await screen.findByRole("heading", { level: 1, name: "Order 3f2a9c1d" })).toBeTruthy();
    expect(screen.queryByText(thanks)).toBeNull();
  });
});

const validationProblem = (errors: Record<string, string[]>) =>
  json(400, { status: 400, title: "One or more validation errors occurred.", errors }, "application/problem+json");

describe("forms say what is wrong on each field", () => {
  it("sign in: empty fields are said on each field (aria-invalid, described by why) before anything is sent; the shop's field errors stand on their fields, and its alert reads as sentences", async () => {
    fetchMock.mockResolvedValue(validationProblem({ Email: ["This field is required."], Password: ["This field is required."] }));
    renderAt("/signin");
    const email = await screen.findByLabelText("Email");
    const password = screen.getByLabelText("Password");
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    await waitFor(() => expect(fieldProblem(email)).toBe("Enter your email."));
    expect(fieldProblem(password)).toBe("Enter your password.");
    expect(document.activeElement).toBe(email); // the first field to mend, read with its words
    expect(fetchMock.mock.calls.filter(([u]) => String(u) === "/users/login")).toEqual([]);

    // Filled in, the field's words go once sent; what the shop refuses stands on its field.
    fireEvent.change(email, { target: { value: " " } }); // only spaces: sent trimmed, as empty would be, so the shop's words come
    fireEvent.change(password, { target: { value: "x" } });
    fireEvent.change(email, { target: { value: "bob" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toBe("Please check the following: Email: This field is required. Password: This field is required.");
    expect(fieldProblem(email)).toBe("This field is required.");
    expect(fieldProblem(password)).toBe("This field is required.");
  });

  it("register: empty name and email, and a short password, are said on their fields (aria-invalid, described by why), and nothing is sent", async () => {
    renderAt("/register");
    const name = await screen.findByLabelText("Name");
    const email = screen.getByLabelText("Email");
    const password = screen.getByLabelText("Password");
    fireEvent.change(password, { target: { value: "short" } });
    fireEvent.click(screen.getByRole("button", { name: "Create account" }));
    await waitFor(() => expect(fieldProblem(name)).toBe("Enter your name."));
    expect(fieldProblem(email)).toBe("Enter your email.");
    expect(fieldProblem(password)).toBe("Password must be at least 8 characters.");
    expect(document.activeElement).toBe(name);

    fireEvent.change(name, { target: { value: "Bob" } });
    fireEvent.change(email, { target: { value: "bob@example.com" } });
    fireEvent.click(screen.getByRole("button", { name: "Create account" }));
    await waitFor(() => expect(fieldProblem(name)).toBeNull());
    expect(fieldProblem(email)).toBeNull();
    expect(fieldProblem(password)).toBe("Password must be at least 8 characters.");
    expect(document.activeElement).toBe(password);
    expect(fetchMock.mock.calls.filter(([u]) => String(u) === "/users/register")).toEqual([]);
  });
});

describe("navigation and loading", () => {
  it("the phone-size menu closes on Escape and gives focus back to its button", async () => {
    renderAt("/signin");
    const menu = await screen.findByRole("button", { name: "Menu" });
    fireEvent.click(menu);
    expect(menu.getAttribute("aria-expanded")).toBe("true");
    const link = within(screen.getByRole("navigation", { name: "Mobile" })).getByRole("link", { name: "Catalogue" });
    link.focus();
    fireEvent.keyDown(link, { key: "Escape" });
    expect(menu.getAttribute("aria-expanded")).toBe("false");
    expect(screen.queryByRole("navigation", { name: "Mobile" })).toBeNull();
    expect(document.activeElement).toBe(menu);
  });

  it("the phone-size menu closes when a link in it is followed, and going Back does not open it again", async () => {
    const router = renderAt("/signin");
    const menu = await screen.findByRole("button", { name: "Menu" });
    fireEvent.click(menu);
    expect(menu.getAttribute("aria-expanded")).toBe("true");
    fireEvent.click(within(document.getElementById("mobile-menu")!).getByRole("link", { name: "Register" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Create account" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Menu" }).getAttribute("aria-expanded")).toBe("false");
    await act(() => router.navigate(-1));
    expect(await screen.findByRole("heading", { level: 1, name: "Sign in" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Menu" }).getAttribute("aria-expanded")).toBe("false");
  });

  it("the Loading… shown while the app starts and while a new tab restores its session is a status a screen reader says", async () => {
    document.cookie = "shop_session=1; path=/";
    let answer: ((r: Response) => void) | undefined;
    fetchMock.mockImplementation(() => new Promise<Response>((resolve) => (answer = resolve)));
    try {
      renderAt("/my/orders");
      expect(screen.getByRole("status").textContent).toBe("Loading…"); // the first page's code on its way
      await screen.findByRole("button", { name: "Menu" });
      await waitFor(() => expect(answer).toBeDefined());
      expect(screen.getByRole("status").textContent).toBe("Loading…"); // the session asked for
    } finally {
      answer?.(json(401, { status: 401, title: "Unauthorized" }, "application/problem+json"));
      document.cookie = "shop_session=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/";
    }
    expect(await screen.findByRole("heading", { level: 1, name: "Sign in" })).toBeTruthy();
  });
});
