// @vitest-environment jsdom
// The admin pages' tables and delete flow, by role and accessible name (what the browser tests rely on).
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { createQueryClient, queryKeys } from "../api/queries";
import { clearSession, saveSession } from "../api/session";
import { formatDateTime } from "../lib/format";
import { WEBHOOKS_REFRESH_MS } from "./admin/AdminWebhooksPage";
import { emojiName, expectHeldExplanation, json, pressRefusedAndHeld, renderAt, tooManyRequests, typeInto } from "../test/app";

const admin = { id: 1, name: "Ada", email: "admin@shop.local", role: "admin" as const, is_active: true, created_at: "2026-01-01T00:00:00Z" };
const mug = { id: 1, sku: "MUG", name: "Mug", price: 8.5, qty: 3, created_at: "", updated_at: "" };
const hook = { id: 9, url: "https://hooks.example.com/shop", events: ["order.created"], is_active: true, created_at: "2026-01-01T00:00:00Z" };
/** GET /orders/webhooks: one page of subscriptions, as every list answers. */
const hooksPage = (...items: object[]) => ({ items, total: items.length, limit: 20, offset: 0 });
const customerOrder = { id: "3f2a9c1d-0000-4000-8000-000000000000", user_id: 7, status: "paid", total: 17, items: [{ sku: "MUG", name: "Mug", qty: 2, unit_price: 8.5, line_total: 17 }], created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z" };
const delivery = {
  id: 4,
  event_id: "e1",
  event_type: "order.created",
  order_id: "3f2a9c1d-0000-4000-8000-000000000000",
  status: "failed",
  attempts: 3,
  last_status_code: 500,
  last_error: null,
  next_attempt_at: null,
  delivered_at: null,
};

const fetchMock = vi.fn<typeof fetch>();

beforeEach(() => {
  sessionStorage.clear();
  localStorage.clear();
  clearSession();
  saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: admin });
  fetchMock.mockReset();
  vi.stubGlobal("fetch", fetchMock);
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

/** Requests sent with `method` wait to be answered (the function returned answers the last one); the others get `list`. */
function holding(method: string, list: unknown): (r: Response) => void {
  let answer: (r: Response) => void = () => {};
  fetchMock.mockImplementation(async (_input, init) => (init?.method === method ? new Promise<Response>((r) => (answer = r)) : json(200, list)));
  return (r) => answer(r);
}

/** The button `name` in `item` (a row or a card) pressed from the keyboard: focus is on it when it is pressed. */
function pressFromKeyboard(item: HTMLElement, name: string): HTMLElement {
  const button = within(item).getByRole("button", { name });
  button.focus();
  fireEvent.click(button);
  return button;
}

/** Delete, then Confirm delete, in `item` (a row or a card), from the keyboard: focus is on Delete when it is pressed. */
function deleteFromKeyboard(item: HTMLElement) {
  pressFromKeyboard(item, "Delete");
  fireEvent.click(within(item).getByRole("button", { name: "Confirm delete" }));
}

const calls = (method: string) => fetchMock.mock.calls.filter(([, init]) => (init?.method ?? "GET") === method).map(([u]) => String(u));

describe("admin pages", () => {
  it("inventory: a labelled search, a row per item named by its SKU, and Delete only after Confirm delete", async () => {
    fetchMock.mockImplementation(async (_input, init) =>
      init?.method === "DELETE" ? json(204, null) : json(200, { items: [mug], total: 1, limit: 25, offset: 0 }),
    );
    renderAt("/admin/inventory");
    const row = await screen.findByRole("row", { name: "MUG" });
    expect(screen.getByRole("searchbox", { name: "Search" })).toBeTruthy();
    expect(screen.getAllByRole("columnheader").map((h) => h.textContent)).toEqual(["SKU", "Name", "Price", "Stock", "Actions"]);

    fireEvent.click(within(row).getByRole("button", { name: "Delete" }));
    fireEvent.click(within(row).getByRole("button", { name: "Keep" }));
    fireEvent.click(within(row).getByRole("button", { name: "Delete" }));
    expect(calls("DELETE")).toEqual([]);
    fireEvent.click(within(row).getByRole("button", { name: "Confirm delete" }));
    await waitFor(() => expect(calls("DELETE")).toEqual(["/inventory/MUG"]));
    // The notice's region is there from the start (empty): wait for its words.
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("Deleted MUG."));
  });

  it("inventory: a price cleared (or one the field cannot read) is refused, never saved as 0", async () => {
    fetchMock.mockImplementation(async () => json(200, { items: [mug], total: 1, limit: 25, offset: 0 }));
    renderAt("/admin/inventory");
    const row = await screen.findByRole("row", { name: "MUG" });
    fireEvent.click(within(row).getByRole("button", { name: "Edit" }));
    fireEvent.change(within(row).getByLabelText("Price of MUG"), { target: { value: "" } });
    fireEvent.click(within(row).getByRole("button", { name: "Save" }));
    expect((await within(row).findByRole("alert")).textContent).toMatch(/price of 0 or more/);
    expect(calls("PATCH")).toEqual([]);
    expect(within(row).getByLabelText("Price of MUG").getAttribute("aria-invalid")).toBe("true");
  });

  it("inventory: an item's name is capped in characters as Inventory counts them (an emoji is one), at creation and in the editor, and one too long is said on its field, not sent", async () => {
    fetchMock.mockImplementation(async (_input, init) =>
      init?.method === "POST" ? json(201, { ...mug, id: 2, sku: "CUP", name: emojiName(100) }) : json(200, { items: [mug], total: 1, limit: 25, offset: 0 }),
    );
    renderAt("/admin/inventory");
    const form = await screen.findByRole("form", { name: "New item" });
    const name = within(form).getByLabelText("Name");
    typeInto(within(form).getByLabelText("SKU"), "CUP");
    typeInto(within(form).getByLabelText("Price"), "4");
    typeInto(name, emojiName(101));
    expect(name.getAttribute("aria-invalid")).toBe("true");
    expect(document.getElementById(name.getAttribute("aria-describedby") ?? "")?.textContent).toBe("Shorten this to 100 characters: it has 101.");
    fireEvent.click(within(form).getByRole("button", { name: "Add item" }));
    await act(async () => {});
    expect(calls("POST")).toEqual([]);
    typeInto(name, emojiName(100));
    fireEvent.click(within(form).getByRole("button", { name: "Add item" }));
    await waitFor(() => expect(calls("POST")).toEqual(["/inventory/"]));
    expect(JSON.parse(String(fetchMock.mock.calls.find(([, init]) => init?.method === "POST")![1]!.body)).name).toBe(emojiName(100));

    const row = screen.getByRole("row", { name: "MUG" });
    fireEvent.click(within(row).getByRole("button", { name: "Edit" }));
    const rowName = within(row).getByLabelText("Name of MUG");
    typeInto(rowName, emojiName(101));
    expect(rowName.getAttribute("aria-invalid")).toBe("true");
    pressFromKeyboard(row, "Save");
    await act(async () => {});
    expect(calls("PATCH")).toEqual([]);
    expect(document.activeElement).toBe(rowName); // where its words are read
  });

  it("inventory: a pasted sku longer than Inventory takes (64) is kept whole and said on its field, not cut and sent", async () => {
    fetchMock.mockImplementation(async (_input, init) =>
      init?.method === "POST" ? json(201, { ...mug, id: 2, sku: "C".repeat(64), name: "Cup" }) : json(200, { items: [mug], total: 1, limit: 25, offset: 0 }),
    );
    renderAt("/admin/inventory");
    const form = await screen.findByRole("form", { name: "New item" });
    const sku = within(form).getByLabelText("SKU");
    typeInto(sku, "C".repeat(65));
    typeInto(within(form).getByLabelText("Name"), "Cup");
    typeInto(within(form).getByLabelText("Price"), "4");
    expect((sku as HTMLInputElement).value).toBe("C".repeat(65));
    expect(sku.getAttribute("aria-invalid")).toBe("true");
    expect(document.getElementById(sku.getAttribute("aria-describedby") ?? "")?.textContent).toBe("Shorten this to 64 characters: it has 65.");
    fireEvent.click(within(form).getByRole("button", { name: "Add item" }));
    await act(async () => {});
    expect(calls("POST")).toEqual([]);
    typeInto(sku, "C".repeat(64));
    fireEvent.click(within(form).getByRole("button", { name: "Add item" }));
    await waitFor(() => expect(calls("POST")).toEqual(["/inventory/"]));
  });

  it("inventory: Edit, Cancel and Save pressed from the keyboard keep focus: in the editor, then on Edit again", async () => {
    const answer = holding("PATCH", { items: [mug], total: 1, limit: 25, offset: 0 });
    renderAt("/admin/inventory");
    const row = await screen.findByRole("row", { name: "MUG" });
    const press = (name: string) => pressFromKeyboard(row, name);
    press("Edit");
    expect(document.activeElement).toBe(within(row).getByLabelText("Name of MUG"));
    press("Cancel");
    expect(document.activeElement).toBe(within(row).getByRole("button", { name: "Edit" }));

    press("Edit");
    const save = press("Save");
    // While it runs it is unavailable, but keeps focus (a disabled button would drop it).
    await waitFor(() => expect(save.getAttribute("aria-disabled")).toBe("true"));
    expect(document.activeElement).toBe(save);
    // Refused: the editor stays, and so does focus, with the reason said.
    answer(json(422, { status: 422, title: "Unprocessable", detail: "The name is taken." }));
    expect((await within(row).findByRole("alert")).textContent).toBe("The name is taken.");
    expect(document.activeElement).toBe(save);
    press("Save");
    await waitFor(() => expect(save.getAttribute("aria-disabled")).toBe("true"));
    answer(json(200, mug));
    expect(await screen.findByText("Saved MUG.")).toBeTruthy();
    expect(document.activeElement).toBe(within(row).getByRole("button", { name: "Edit" }));
  });

  it("inventory: Cancel is not offered while a Save is on its way; the save's outcome then closes the editor and shows in the row", async () => {
    let item = mug;
    let answer: (r: Response) => void = () => {};
    fetchMock.mockImplementation(async (_input, init) => {
      if (init?.method !== "PATCH") return json(200, { items: [item], total: 1, limit: 25, offset: 0 });
      item = { ...mug, name: "Big mug" }; // saved, whatever the editor does meanwhile
      return new Promise<Response>((r) => (answer = r));
    });
    renderAt("/admin/inventory");
    const row = await screen.findByRole("row", { name: "MUG" });
    const press = (name: string) => pressFromKeyboard(row, name);
    press("Edit");
    fireEvent.change(within(row).getByLabelText("Name of MUG"), { target: { value: "Big mug" } });
    const save = press("Save");
    // Pressed at once (before the request's own state is rendered) and again once it is: the save goes on, and so
    // does the editor, with Save busy, rather than a Save that looks ready and ignores presses.
    const cancel = press("Cancel");
    await waitFor(() => expect(calls("PATCH")).toEqual(["/inventory/MUG"]));
    expect(cancel.getAttribute("aria-disabled")).toBe("true");
    expect(document.activeElement).toBe(cancel);
    press("Cancel");
    expect(within(row).getByLabelText("Name of MUG")).toBeTruthy();
    expect(save.getAttribute("aria-busy")).toBe("true");
    answer(json(200, item));
    expect(await screen.findByText("Saved MUG.")).toBeTruthy();
    expect(within(row).getByText("Big mug")).toBeTruthy();
    expect(document.activeElement).toBe(within(row).getByRole("button", { name: "Edit" }));
    // And the next edit saves at its first press.
    press("Edit");
    press("Save");
    await waitFor(() => expect(calls("PATCH")).toHaveLength(2));
  });

  it("inventory: a saved edit or stock change shows in its row at once, even when the list cannot be read again", async () => {
    let listed = false;
    fetchMock.mockImplementation(async (_input, init) => {
      if (init?.method === "PATCH") return json(200, { ...mug, name: "Big mug", price: 9 });
      if (init?.method === "POST") return json(200, { ...mug, name: "Big mug", price: 9, qty: 5 });
      if (listed) return json(429, { status: 429, title: "Too Many Requests" }); // the re-read after each write fails
      listed = true;
      return json(200, { items: [mug], total: 1, limit: 25, offset: 0 });
    });
    renderAt("/admin/inventory");
    const row = () => screen.getByRole("row", { name: "MUG" });
    fireEvent.click(within(await screen.findByRole("row", { name: "MUG" })).getByRole("button", { name: "Edit" }));
    fireEvent.change(within(row()).getByLabelText("Name of MUG"), { target: { value: "Big mug" } });
    fireEvent.change(within(row()).getByLabelText("Price of MUG"), { target: { value: "9" } });
    fireEvent.click(within(row()).getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Saved MUG.")).toBeTruthy();
    expect(await within(row()).findByText("Big mug")).toBeTruthy();
    expect(within(row()).getByText("$9.00")).toBeTruthy();
    fireEvent.change(within(row()).getByLabelText("Stock change for MUG"), { target: { value: "2" } });
    fireEvent.click(within(row()).getByRole("button", { name: "Adjust" }));
    expect(await screen.findByText("Stock of MUG is now 5.")).toBeTruthy();
    expect(await within(row()).findByText("5")).toBeTruthy();
  });

  it("inventory: a stock change typed as the number field allows it (1e3, a thousand) is sent as that number, not its first digit", async () => {
    fetchMock.mockImplementation(async (_input, init) =>
      init?.method === "POST" ? json(200, { ...mug, qty: 1005 }) : json(200, { items: [mug], total: 1, limit: 25, offset: 0 }),
    );
    renderAt("/admin/inventory");
    const row = await screen.findByRole("row", { name: "MUG" });
    fireEvent.change(within(row).getByLabelText("Stock change for MUG"), { target: { value: "1e3" } });
    fireEvent.click(within(row).getByRole("button", { name: "Adjust" }));
    await waitFor(() => expect(calls("POST")).toEqual(["/inventory/MUG/adjust"]));
    expect(JSON.parse(String(fetchMock.mock.calls.find(([, init]) => init?.method === "POST")![1]!.body))).toEqual({ delta: 1000 });
  });

  it("inventory: Adjust keeps focus while its request runs and once the change is cleared", async () => {
    const answer = holding("POST", { items: [mug], total: 1, limit: 25, offset: 0 });
    renderAt("/admin/inventory");
    const row = await screen.findByRole("row", { name: "MUG" });
    fireEvent.change(within(row).getByLabelText("Stock change for MUG"), { target: { value: "2" } });
    const adjust = within(row).getByRole("button", { name: "Adjust" });
    adjust.focus();
    fireEvent.click(adjust);
    await waitFor(() => expect(calls("POST")).toEqual(["/inventory/MUG/adjust"]));
    await waitFor(() => expect(adjust.getAttribute("aria-disabled")).toBe("true"));
    expect(document.activeElement).toBe(adjust);
    fireEvent.click(adjust); // unavailable: sends nothing more
    answer(json(200, { ...mug, qty: 5 }));
    expect(await screen.findByText("Stock of MUG is now 5.")).toBeTruthy();
    // The change is cleared, so there is nothing to adjust by: still unavailable, still focused.
    expect(adjust.getAttribute("aria-disabled")).toBe("true");
    expect(document.activeElement).toBe(adjust);
    expect(calls("POST")).toHaveLength(1);
  });

  it("inventory and webhooks: Add item and Create webhook keep focus while their request runs, and a press then sends nothing", async () => {
    let answer: (r: Response) => void = () => {};
    fetchMock.mockImplementation(async (input, init) => {
      if (init?.method === "POST") return new Promise<Response>((r) => (answer = r));
      return json(200, String(input).startsWith("/inventory") ? { items: [], total: 0, limit: 25, offset: 0 } : hooksPage());
    });
    const submitFromKeyboard = async (form: HTMLElement, name: string) => {
      const button = within(form).getByRole("button", { name });
      button.focus();
      fireEvent.click(button);
      await waitFor(() => expect(calls("POST")).toHaveLength(1));
      // Unavailable, but focused (a disabled button would drop focus to the page).
      await waitFor(() => expect(button.getAttribute("aria-disabled")).toBe("true"));
      expect(document.activeElement).toBe(button);
      fireEvent.click(button);
    };

    renderAt("/admin/inventory");
    const item = await screen.findByRole("form", { name: "New item" });
    fireEvent.change(within(item).getByLabelText("SKU"), { target: { value: "CUP" } });
    fireEvent.change(within(item).getByLabelText("Name"), { target: { value: "Cup" } });
    fireEvent.change(within(item).getByLabelText("Price"), { target: { value: "4" } });
    await submitFromKeyboard(item, "Add item");
    answer(json(201, { ...mug, id: 2, sku: "CUP", name: "Cup" }));
    expect(await screen.findByText("Created CUP.")).toBeTruthy();
    expect(calls("POST")).toEqual(["/inventory/"]);
    cleanup();
    fetchMock.mockClear();

    renderAt("/admin/webhooks");
    const hookForm = await screen.findByRole("form", { name: "New webhook" });
    fireEvent.change(within(hookForm).getByLabelText("URL"), { target: { value: hook.url } });
    await submitFromKeyboard(hookForm, "Create webhook");
    answer(json(201, { ...hook, secret: "whsec_1" }));
    expect(await screen.findByTestId("webhook-secret")).toBeTruthy();
    expect(calls("POST")).toEqual(["/orders/webhooks"]);
  });

  it("inventory, orders and webhooks: two submits in one task (Enter pressed twice, a double click on a busy page) send one request", async () => {
    fetchMock.mockImplementation(async (input, init) => {
      if ((init?.method ?? "GET") !== "GET") return new Promise<Response>(() => {}); // never answered
      const url = String(input);
      if (url.startsWith("/inventory")) return json(200, { items: [mug], total: 1, limit: 25, offset: 0 });
      if (url.startsWith("/orders/webhooks")) return json(200, hooksPage());
      return json(200, { items: [customerOrder], total: 1, limit: 25, offset: 0 });
    });
    const twice = (form: HTMLElement) => {
      fireEvent.submit(form);
      fireEvent.submit(form);
    };
    const sent = () => fetchMock.mock.calls.filter(([, init]) => (init?.method ?? "GET") !== "GET").map(([u]) => String(u));

    renderAt("/admin/inventory");
    const item = await screen.findByRole("form", { name: "New item" });
    fireEvent.change(within(item).getByLabelText("SKU"), { target: { value: "CUP" } });
    fireEvent.change(within(item).getByLabelText("Name"), { target: { value: "Cup" } });
    fireEvent.change(within(item).getByLabelText("Price"), { target: { value: "4" } });
    twice(item);
    const row = await screen.findByRole("row", { name: "MUG" });
    fireEvent.change(within(row).getByLabelText("Stock change for MUG"), { target: { value: "5" } });
    twice(within(row).getByLabelText("Stock change for MUG").closest("form")!);
    await act(async () => {});
    expect(sent()).toEqual(["/inventory/", "/inventory/MUG/adjust"]);
    cleanup();
    fetchMock.mockClear();

    renderAt("/admin/orders");
    const order = await screen.findByRole("combobox", { name: "New status for order 3f2a9c1d" });
    twice(order.closest("form")!);
    await act(async () => {});
    expect(sent()).toEqual([`/orders/${customerOrder.id}`]);
    cleanup();
    fetchMock.mockClear();

    renderAt("/admin/webhooks");
    const hookForm = await screen.findByRole("form", { name: "New webhook" });
    fireEvent.change(within(hookForm).getByLabelText("URL"), { target: { value: hook.url } });
    twice(hookForm);
    await act(async () => {});
    expect(sent()).toEqual(["/orders/webhooks"]);
  });

  it("every admin write held by a 429: its button stays focusable but unavailable, says why, and neither a press nor Enter sends again", async () => {
    const bob = { ...admin, id: 2, name: "Bob", email: "bob@example.com", role: "user" as const };
    fetchMock.mockImplementation(async (input, init) => {
      if ((init?.method ?? "GET") !== "GET") return tooManyRequests("840");
      const url = String(input);
      if (url.startsWith("/inventory")) return json(200, { items: [mug], total: 1, limit: 25, offset: 0 });
      if (url.startsWith("/orders/webhooks")) return json(200, hooksPage(hook));
      if (url.startsWith("/users")) return json(200, { items: [admin, bob], total: 2, limit: 25, offset: 0 });
      return json(200, { items: [customerOrder], total: 1, limit: 25, offset: 0 });
    });
    const row = (name: string) => screen.findByRole("row", { name });
    // Each write: the page, what the admin does up to the press, and the button pressed (found again afterwards).
    const writes: [string, () => Promise<unknown>, () => HTMLElement][] = [
      [
        "/admin/inventory",
        async () => {
          const form = await screen.findByRole("form", { name: "New item" });
          fireEvent.change(within(form).getByLabelText("SKU"), { target: { value: "CUP" } });
          fireEvent.change(within(form).getByLabelText("Name"), { target: { value: "Cup" } });
          fireEvent.change(within(form).getByLabelText("Price"), { target: { value: "4" } });
        },
        () => screen.getByRole("button", { name: "Add item" }),
      ],
      ["/admin/inventory", async () => fireEvent.click(within(await row("MUG")).getByRole("button", { name: "Edit" })), () => screen.getByRole("button", { name: "Save" })],
      [
        "/admin/inventory",
        async () => fireEvent.change(within(await row("MUG")).getByLabelText("Stock change for MUG"), { target: { value: "2" } }),
        () => screen.getByRole("button", { name: "Adjust" }),
      ],
      ["/admin/inventory", async () => fireEvent.click(within(await row("MUG")).getByRole("button", { name: "Delete" })), () => screen.getByRole("button", { name: "Confirm delete" })],
      [
        "/admin/webhooks",
        async () => fireEvent.change(within(await screen.findByRole("form", { name: "New webhook" })).getByLabelText("URL"), { target: { value: hook.url } }),
        () => screen.getByRole("button", { name: "Create webhook" }),
      ],
      [
        "/admin/webhooks",
        async () => fireEvent.click(within(await screen.findByRole("article", { name: hook.url })).getByRole("button", { name: "Rotate secret" })),
        () => screen.getByRole("button", { name: "Confirm rotation" }),
      ],
      ["/admin/orders", () => screen.findByRole("button", { name: "Update status" }), () => screen.getByRole("button", { name: "Update status" })],
      [
        "/admin/users",
        async () => fireEvent.change(within(await row("bob@example.com")).getByRole("combobox", { name: "Role for bob@example.com" }), { target: { value: "admin" } }),
        () => screen.getByRole("button", { name: "Change role" }),
      ],
      [
        "/admin/users",
        async () => fireEvent.click(within(await row("bob@example.com")).getByRole("button", { name: "Deactivate" })),
        () => screen.getByRole("button", { name: "Confirm deactivation" }),
      ],
    ];
    const writesSent = () => fetchMock.mock.calls.filter(([, init]) => (init?.method ?? "GET") !== "GET").length;
    for (const [path, prepare, button] of writes) {
      renderAt(path);
      await prepare();
      await pressRefusedAndHeld(button, "Too many attempts. Please try again in 14 minutes.", writesSent);
      expect(writesSent(), path).toBe(1);
      cleanup();
      fetchMock.mockClear();
    }
  });

  it("a 429 holds every write of the page that draws from the same budget (the gateway's general one, per admin), not only the button pressed", async () => {
    fetchMock.mockImplementation(async (_input, init) =>
      (init?.method ?? "GET") === "GET" ? json(200, { items: [mug], total: 1, limit: 25, offset: 0 }) : tooManyRequests("840"),
    );
    renderAt("/admin/inventory");
    const row = await screen.findByRole("row", { name: "MUG" });
    fireEvent.change(within(row).getByLabelText("Stock change for MUG"), { target: { value: "2" } });
    fireEvent.click(within(row).getByRole("button", { name: "Edit" }));
    fireEvent.click(within(row).getByRole("button", { name: "Save" }));
    expect((await screen.findByRole("alert")).textContent).toBe("Too many attempts. Please try again in 14 minutes.");
    const writesSent = () => fetchMock.mock.calls.filter(([, init]) => (init?.method ?? "GET") !== "GET").length;
    expect(writesSent()).toBe(1);
    // The same row's Adjust and the page's Add item would be refused too: held, and saying why.
    for (const other of [within(row).getByRole("button", { name: "Adjust" }), screen.getByRole("button", { name: "Add item" })]) {
      await waitFor(() => expect(other.getAttribute("aria-disabled"), other.textContent ?? "").toBe("true"));
      expectHeldExplanation(other);
      fireEvent.click(other);
    }
    fireEvent.submit(within(row).getByRole("button", { name: "Adjust" }).closest("form")!); // Enter in the change
    await act(async () => {});
    expect(writesSent()).toBe(1);
  });

  it("a 429 answered to a read holds the writes that draw from the same budget (the gateway counts every read in the general one, per user), and not those of other budgets", async () => {
    let refuseReads = false;
    fetchMock.mockImplementation(async (input, init) => {
      if ((init?.method ?? "GET") !== "GET") throw new Error(`unexpected write ${String(input)}`);
      if (refuseReads) return tooManyRequests("840");
      return String(input) === "/users/me" ? json(200, admin) : json(200, { items: [mug], total: 1, limit: 25, offset: 0 });
    });
    const queryClient = createQueryClient();
    const router = renderAt("/admin/inventory", queryClient);
    const row = await screen.findByRole("row", { name: "MUG" });
    fireEvent.change(within(row).getByLabelText("Stock change for MUG"), { target: { value: "2" } });
    // The list read again (another tab's write, a search) and refused: the admin's budget is spent for 14 minutes.
    refuseReads = true;
    await act(() => queryClient.invalidateQueries({ queryKey: queryKeys.inventory }));
    expect(await screen.findByText(/^Could not refresh/)).toBeTruthy();
    for (const write of [within(row).getByRole("button", { name: "Adjust" }), screen.getByRole("button", { name: "Add item" })]) {
      await waitFor(() => expect(write.getAttribute("aria-disabled"), write.textContent ?? "").toBe("true"));
      expectHeldExplanation(write);
      fireEvent.click(write);
    }
    await act(async () => {});
    expect(calls("POST")).toEqual([]);
    // On the Account page, Sign out everywhere draws from the general budget too: held. A change of one's own account
    // draws from the account-change budget (per address), which the read did not spend: offered.
    refuseReads = false;
    await act(() => router.navigate("/account"));
    const profile = await screen.findByRole("form", { name: "Profile" });
    expect(within(profile).getByRole("button", { name: "Save profile" }).getAttribute("aria-disabled"), "Save profile").toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Sign out everywhere" }));
    expectHeldExplanation(screen.getByRole("button", { name: "Confirm sign out everywhere" }));
  });

  it("a 503 naming one service down holds only the button it answered, not every admin write of the app: the budget is the gateway's 429's", async () => {
    const bob = { ...admin, id: 2, name: "Bob", email: "bob@example.com", role: "user" as const };
    fetchMock.mockImplementation(async (input, init) => {
      const url = String(input);
      if ((init?.method ?? "GET") !== "GET") {
        return url.startsWith("/inventory")
          ? new Response(JSON.stringify({ status: 503, title: "Service temporarily unavailable", detail: "This service's database is unavailable or overloaded. Try again shortly." }), {
              status: 503,
              headers: { "content-type": "application/problem+json", "retry-after": "5" },
            })
          : json(200, { ...bob, role: "admin" });
      }
      return url.startsWith("/users") ? json(200, { items: [admin, bob], total: 2, limit: 25, offset: 0 }) : json(200, { items: [mug], total: 1, limit: 25, offset: 0 });
    });
    const router = renderAt("/admin/inventory");
    const row = await screen.findByRole("row", { name: "MUG" });
    fireEvent.change(within(row).getByLabelText("Stock change for MUG"), { target: { value: "2" } });
    fireEvent.click(within(row).getByRole("button", { name: "Adjust" }));
    // The shop's own words (its detail), not "try again in a moment" beside the held button's time.
    expect((await screen.findByRole("alert")).textContent).toBe("This service's database is unavailable or overloaded. Try again shortly.");
    // Inventory's database is away; Users is not, and the gateway's budget was not spent.
    await act(() => router.navigate("/admin/users"));
    const bobRow = await screen.findByRole("row", { name: "bob@example.com" });
    fireEvent.change(within(bobRow).getByRole("combobox", { name: "Role for bob@example.com" }), { target: { value: "admin" } });
    const changeRole = within(bobRow).getByRole("button", { name: "Change role" });
    expect(changeRole.getAttribute("aria-disabled")).toBeNull();
    fireEvent.click(changeRole);
    await waitFor(() => expect(calls("PATCH")).toEqual(["/users/2"]));
  });

  it("users: a row per user named by email, with the role select and the pager", async () => {
    const bob = { ...admin, id: 2, name: "Bob", email: "bob@example.com", role: "user" as const };
    fetchMock.mockResolvedValue(json(200, { items: [admin, bob], total: 30, limit: 25, offset: 0 }));
    renderAt("/admin/users");
    const row = await screen.findByRole("row", { name: "bob@example.com" });
    expect(screen.getAllByRole("columnheader").map((h) => h.textContent)).toEqual(["User", "Joined", "Role", "Status", "Actions"]);
    expect(within(row).getByRole("combobox", { name: "Role for bob@example.com" })).toBeTruthy();
    expect(within(row).getByRole("button", { name: "Deactivate" })).toBeTruthy();
    expect(screen.getByRole("navigation", { name: "User pages" }).textContent).toContain("1–25 of 30");
  });

  it("users: choosing a role in the select changes nothing until Change role", async () => {
    const bob = { ...admin, id: 2, name: "Bob", email: "bob@example.com", role: "user" as const };
    fetchMock.mockImplementation(async (_input, init) =>
      init?.method === "PATCH" ? json(200, { ...bob, role: "admin" }) : json(200, { items: [admin, bob], total: 2, limit: 25, offset: 0 }),
    );
    renderAt("/admin/users");
    const row = await screen.findByRole("row", { name: "bob@example.com" });
    fireEvent.change(within(row).getByRole("combobox", { name: "Role for bob@example.com" }), { target: { value: "admin" } });
    expect(calls("PATCH")).toEqual([]);
    fireEvent.click(within(row).getByRole("button", { name: "Change role" }));
    await waitFor(() => expect(calls("PATCH")).toEqual(["/users/2"]));
  });

  it("users: a role changed elsewhere shows in the select once the list is read again, with no change pending", async () => {
    let bob = { ...admin, id: 2, name: "Bob", email: "bob@example.com", role: "user" as "user" | "admin" };
    fetchMock.mockImplementation(async () => json(200, { items: [admin, bob], total: 2, limit: 25, offset: 0 }));
    const queryClient = createQueryClient();
    renderAt("/admin/users", queryClient);
    const select = () => within(screen.getByRole("row", { name: "bob@example.com" })).getByRole("combobox", { name: "Role for bob@example.com" }) as HTMLSelectElement;
    await screen.findByRole("row", { name: "bob@example.com" });
    expect(select().value).toBe("user");
    bob = { ...bob, role: "admin" }; // another admin (or this one, in another tab) makes Bob an admin
    await act(() => queryClient.refetchQueries({ queryKey: queryKeys.users }));
    await waitFor(() => expect(select().value).toBe("admin"));
    // Nothing pending: a press would have made Bob a user again.
    expect(screen.queryByRole("button", { name: "Change role" })).toBeNull();
  });

  it("users: Deactivate (which ends the account's sessions) asks first", async () => {
    const bob = { ...admin, id: 2, name: "Bob", email: "bob@example.com", role: "user" as const };
    fetchMock.mockImplementation(async (_input, init) =>
      init?.method === "DELETE" ? json(204, null) : json(200, { items: [admin, bob], total: 2, limit: 25, offset: 0 }),
    );
    renderAt("/admin/users");
    const row = await screen.findByRole("row", { name: "bob@example.com" });
    fireEvent.click(within(row).getByRole("button", { name: "Deactivate" }));
    expect(calls("DELETE")).toEqual([]);
    fireEvent.click(within(row).getByRole("button", { name: "Keep active" }));
    fireEvent.click(within(row).getByRole("button", { name: "Deactivate" }));
    fireEvent.click(within(row).getByRole("button", { name: "Confirm deactivation" }));
    await waitFor(() => expect(calls("DELETE")).toEqual(["/users/2"]));
  });

  it("webhooks: the delivery log opens as a table, and Delete asks to confirm", async () => {
    fetchMock.mockImplementation(async (input, init) => {
      const url = String(input);
      if (init?.method === "DELETE") return json(204, null);
      if (url.includes("/deliveries")) return json(200, { items: [delivery], total: 1, limit: 20, offset: 0 });
      return json(200, hooksPage(hook));
    });
    renderAt("/admin/webhooks");
    const card = await screen.findByRole("article", { name: hook.url });
    fireEvent.click(within(card).getByRole("button", { name: "Deliveries" }));
    const log = await within(card).findByRole("table", { name: "Delivery log" });
    expect(within(log).getAllByRole("columnheader").map((h) => h.textContent)).toEqual(["Event", "Order", "Status", "Attempts", "Last response", "When"]);
    expect(within(log).getAllByRole("cell").map((c) => c.textContent)).toEqual(["order.created", "3f2a9c1d", "failed", "3", "HTTP 500", "—"]);

    fireEvent.click(within(card).getByRole("button", { name: "Delete" }));
    fireEvent.click(within(card).getByRole("button", { name: "Confirm delete" }));
    await waitFor(() => expect(calls("DELETE")).toEqual(["/orders/webhooks/9"]));
  });

  it("webhooks: Rotate secret asks first, then shows the new secret once, as at creation", async () => {
    fetchMock.mockImplementation(async (input, init) =>
      init?.method === "POST" && String(input) === "/orders/webhooks/9/rotate-secret"
        ? json(200, { ...hook, secret: "whsec_new", previous_secret_expires_at: "2026-01-02T00:00:00Z" })
        : json(200, hooksPage(hook)),
    );
    renderAt("/admin/webhooks");
    const card = await screen.findByRole("article", { name: hook.url });
    fireEvent.click(within(card).getByRole("button", { name: "Rotate secret" }));
    expect(calls("POST")).toEqual([]);
    fireEvent.click(within(card).getByRole("button", { name: "Confirm rotation" }));
    await waitFor(() => expect(calls("POST")).toEqual(["/orders/webhooks/9/rotate-secret"]));
    const box = await screen.findByRole("region", { name: `Signing secret for ${hook.url}` });
    expect(within(box).getByTestId("webhook-secret").textContent).toBe("whsec_new");
    expect(box.textContent).toContain(formatDateTime("2026-01-02T00:00:00Z"));
    expect(document.activeElement).toBe(within(box).getByRole("heading")); // announced, and focus not lost with the button
    // Done asking: a further click must not rotate again (and void the secret just shown).
    expect(within(card).queryByRole("button", { name: "Confirm rotation" })).toBeNull();
    expect(within(card).getByRole("button", { name: "Rotate secret" })).toBeTruthy();
    fireEvent.click(within(box).getByRole("button", { name: "Done" }));
    await waitFor(() => expect(screen.queryByTestId("webhook-secret")).toBeNull());
  });

  it("webhooks: a rotated secret stays shown when the list cannot be re-read just after", async () => {
    let rotated = false;
    fetchMock.mockImplementation(async (input, init) => {
      if (init?.method === "POST" && String(input) === "/orders/webhooks/9/rotate-secret") {
        rotated = true;
        return json(200, { ...hook, secret: "whsec_new", previous_secret_expires_at: "2026-01-02T00:00:00Z" });
      }
      return rotated ? json(503, { status: 503, title: "Service Unavailable", detail: "orders is unavailable." }) : json(200, hooksPage(hook));
    });
    renderAt("/admin/webhooks");
    const card = await screen.findByRole("article", { name: hook.url });
    fireEvent.click(within(card).getByRole("button", { name: "Rotate secret" }));
    fireEvent.click(within(card).getByRole("button", { name: "Confirm rotation" }));
    // The list's re-read fails (after its one retry): the cards stay, with a note.
    expect(await screen.findByText(/^Could not refresh the webhooks/)).toBeTruthy();
    expect(screen.getByTestId("webhook-secret").textContent).toBe("whsec_new");
    expect(screen.getByRole("article", { name: hook.url })).toBeTruthy();
  });

  it("webhooks: a failed re-read keeps the cards, an open delivery log and a half-done rotation, and says so", async () => {
    let down = false;
    fetchMock.mockImplementation(async (input) => {
      if (down) return json(429, { status: 429, title: "Too Many Requests" });
      return String(input).includes("/deliveries") ? json(200, { items: [delivery], total: 1, limit: 20, offset: 0 }) : json(200, hooksPage(hook));
    });
    const queryClient = createQueryClient();
    renderAt("/admin/webhooks", queryClient);
    const card = await screen.findByRole("article", { name: hook.url });
    fireEvent.click(within(card).getByRole("button", { name: "Deliveries" }));
    await within(card).findByRole("table", { name: "Delivery log" });
    fireEvent.click(within(card).getByRole("button", { name: "Rotate secret" }));
    down = true;
    // What the 15 s refresh does, without waiting for it: the list and the open log are read again, and refused.
    await act(() => queryClient.refetchQueries({ queryKey: queryKeys.webhooks }));
    await waitFor(() => expect(screen.getAllByText(/Too many attempts/).length).toBeGreaterThan(0));
    expect(screen.getByRole("article", { name: hook.url })).toBe(card);
    expect(within(card).getByRole("table", { name: "Delivery log" })).toBeTruthy();
    expect(within(card).getByRole("button", { name: "Confirm rotation" })).toBeTruthy();
    expect(screen.getAllByRole("status").map((s) => s.textContent)).toEqual([
      "", // the page's notice, empty until something is done
      "Could not refresh the webhooks, so what is shown may be out of date. Too many attempts. Please try again later.",
      "Could not refresh the delivery log, so what is shown may be out of date. Too many attempts. Please try again later.",
    ]);
  });

  it("webhooks: a refused rotation says why, in the problem's words", async () => {
    fetchMock.mockImplementation(async (_input, init) =>
      init?.method === "POST" ? json(404, { status: 404, title: "Not Found", detail: "No such webhook." }) : json(200, hooksPage(hook)),
    );
    renderAt("/admin/webhooks");
    const card = await screen.findByRole("article", { name: hook.url });
    fireEvent.click(within(card).getByRole("button", { name: "Rotate secret" }));
    fireEvent.click(within(card).getByRole("button", { name: "Confirm rotation" }));
    expect((await within(card).findByRole("alert")).textContent).toBe("No such webhook.");
    expect(screen.queryByTestId("webhook-secret")).toBeNull();
  });

  it("webhooks: a subscriber treated as down says so and when the next try is; one that answers does not", async () => {
    const down = { ...hook, id: 10, url: "https://down.example.com/shop", paused_until: "2026-01-01T10:30:00Z" };
    fetchMock.mockResolvedValue(json(200, hooksPage(hook, down)));
    renderAt("/admin/webhooks");
    const paused = await screen.findByRole("article", { name: down.url });
    expect(within(paused).getByText("Not answering")).toBeTruthy();
    expect(paused.textContent).toContain(`next try is at ${formatDateTime(down.paused_until)}`);
    const answering = screen.getByRole("article", { name: hook.url });
    expect(within(answering).queryByText("Not answering")).toBeNull();
  });

  it("webhooks: the open page notices a subscriber going down without a reload", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      let paused: string | null = null;
      fetchMock.mockImplementation(async () => json(200, hooksPage({ ...hook, paused_until: paused })));
      renderAt("/admin/webhooks");
      const card = await screen.findByRole("article", { name: hook.url });
      expect(within(card).queryByText("Not answering")).toBeNull();
      paused = "2026-01-01T10:30:00Z";
      await vi.advanceTimersByTimeAsync(WEBHOOKS_REFRESH_MS);
      expect(await within(card).findByText("Not answering")).toBeTruthy();
    } finally {
      vi.useRealTimers();
    }
  });

  it("webhooks: a chosen signing secret is sent, an empty one is left out, and a refused one is said at its field", async () => {
    fetchMock.mockImplementation(async (_input, init) => {
      if (init?.method !== "POST") return json(200, hooksPage());
      const body = JSON.parse(String(init.body)) as { secret?: string };
      return body.secret === "short"
        ? json(400, { status: 400, title: "One or more validation errors occurred.", errors: { secret: ["Must be 32 to 256 visible ASCII characters."] } })
        : json(201, { ...hook, secret: body.secret ?? "whsec_generated" });
    });
    const posted = () => fetchMock.mock.calls.filter(([, init]) => init?.method === "POST").map(([, init]) => JSON.parse(String(init?.body)));
    renderAt("/admin/webhooks");
    const form = await screen.findByRole("form", { name: "New webhook" });
    typeInto(within(form).getByLabelText("URL"), "https://hooks.example.com/a");
    fireEvent.submit(form);
    await waitFor(() => expect(posted()).toHaveLength(1));
    expect(posted()[0]).not.toHaveProperty("secret");

    await screen.findByTestId("webhook-secret");
    typeInto(within(form).getByLabelText("URL"), "https://hooks.example.com/b");
    typeInto(within(form).getByLabelText("Signing secret (optional)"), "short");
    fireEvent.submit(form);
    expect(await within(form).findByText("Must be 32 to 256 visible ASCII characters.")).toBeTruthy();
    expect(within(form).getByLabelText("Signing secret (optional)").getAttribute("aria-invalid")).toBe("true");
    expect(posted()[1].secret).toBe("short");
  });

  it("webhooks: more subscriptions than a page hold a pager, and Next reads the next page", async () => {
    const all = Array.from({ length: 23 }, (_, i) => ({ ...hook, id: 100 + i, url: `https://hooks.example.com/${i}` }));
    fetchMock.mockImplementation(async (input) => {
      const url = new URL(String(input), "http://shop.test");
      const limit = Number(url.searchParams.get("limit"));
      const offset = Number(url.searchParams.get("offset") ?? 0);
      return json(200, { items: all.slice(offset, offset + limit), total: all.length, limit, offset });
    });
    renderAt("/admin/webhooks");
    expect(await screen.findByRole("article", { name: all[0].url })).toBeTruthy();
    expect(screen.getAllByRole("article")).toHaveLength(20);
    const pager = screen.getByRole("navigation", { name: "Webhook pages" });
    fireEvent.click(within(pager).getByRole("button", { name: "Next" }));
    expect(await screen.findByRole("article", { name: all[22].url })).toBeTruthy();
    expect(screen.getAllByRole("article")).toHaveLength(3);
    expect(fetchMock.mock.calls.map(([u]) => String(u))).toContain("/orders/webhooks?limit=20&offset=20");
  });

  it("all orders: a non-numeric user id shows its error and no list", async () => {
    fetchMock.mockResolvedValue(json(200, { items: [], total: 0, limit: 25, offset: 0 }));
    renderAt("/admin/orders");
    expect(await screen.findByText("No orders match these filters")).toBeTruthy();
    fireEvent.change(screen.getByLabelText("User ID"), { target: { value: "abc" } });
    expect(await screen.findByText("Enter a number.")).toBeTruthy();
    await waitFor(() => expect(screen.queryByText("No orders match these filters")).toBeNull());
    // Nor a list loading: the page's one status region (its Notice, there from the start) says nothing.
    expect(screen.getAllByRole("status").map((s) => s.textContent)).toEqual([""]);
  });

  it("all orders: the status, user and page chosen are still there after opening an order, by Back or by '← All orders'", async () => {
    const order = customerOrder;
    fetchMock.mockImplementation(async (input) => {
      const url = new URL(String(input), "http://shop.test");
      if (url.pathname.endsWith("/events")) return json(200, []);
      if (url.pathname === `/orders/${order.id}`) return json(200, order);
      return json(200, { items: [order], total: 75, limit: 25, offset: Number(url.searchParams.get("offset") ?? 0) });
    });
    const router = renderAt("/admin/orders");
    await screen.findByRole("link", { name: "Order 3f2a9c1d" });
    fireEvent.change(screen.getByRole("combobox", { name: "Status" }), { target: { value: "paid" } });
    fireEvent.change(screen.getByLabelText("User ID"), { target: { value: "7" } });
    await waitFor(() => expect(calls("GET").some((u) => u.includes("user_id=7"))).toBe(true));
    for (let i = 0; i < 2; i++) {
      const pager = await screen.findByRole("navigation", { name: "Order pages" });
      const next = within(pager).getByRole("button", { name: "Next" });
      await waitFor(() => expect(next.getAttribute("aria-disabled")).toBeNull());
      fireEvent.click(next);
    }
    await waitFor(() => expect(screen.getByRole("navigation", { name: "Order pages" }).textContent).toContain("Page 3 of 3"));

    const chosen = async () => {
      expect(await screen.findByRole("heading", { level: 1, name: "All orders" })).toBeTruthy();
      await waitFor(() => expect(screen.getByRole("navigation", { name: "Order pages" }).textContent).toContain("Page 3 of 3"));
      expect((screen.getByRole("combobox", { name: "Status" }) as HTMLSelectElement).value).toBe("paid");
      expect((screen.getByLabelText("User ID") as HTMLInputElement).value).toBe("7");
    };
    fireEvent.click(screen.getByRole("link", { name: "Order 3f2a9c1d" }));
    fireEvent.click(await screen.findByRole("link", { name: "← All orders" }));
    await chosen();
    fireEvent.click(screen.getByRole("link", { name: "Order 3f2a9c1d" }));
    await screen.findByRole("link", { name: "← All orders" });
    await act(() => router.navigate(-1));
    await chosen();
    const lastList = calls("GET").filter((u) => u.startsWith("/orders/?")).at(-1)!;
    expect(new URL(lastList, "http://shop.test").searchParams.toString()).toBe("status=paid&user_id=7&limit=25&offset=50");
  });

  it("all orders: an Update status refused because another admin moved the order shows the order as it is now, and why", async () => {
    const order = { ...customerOrder, status: "pending" };
    let current = order;
    fetchMock.mockImplementation(async (_input, init) => {
      if (init?.method === "PATCH") {
        current = { ...order, status: "cancelled" }; // another admin's cancellation got there first
        return json(409, { status: 409, title: "Invalid transition", detail: "A cancelled order cannot be marked paid." });
      }
      return json(200, { items: [current], total: 1, limit: 25, offset: 0 });
    });
    renderAt("/admin/orders");
    const row = (await screen.findByRole("link", { name: "Order 3f2a9c1d" })).closest("tr")!;
    const badge = () => within(row).getAllByRole("cell")[5].textContent; // Order, User, Placed, Items, Total, Status
    expect(badge()).toBe("Pending");
    fireEvent.click(within(row).getByRole("button", { name: "Update status" }));
    await waitFor(() => expect(calls("PATCH")).toEqual([`/orders/${order.id}`]));
    // The list is read again: the row's badge and choices are the order's now, and the refusal is said in words.
    await waitFor(() => expect(badge()).toBe("Cancelled"));
    expect(within(row).queryByRole("button", { name: "Update status" })).toBeNull();
    expect(within(row).getByRole("alert").textContent).toBe("A cancelled order cannot be marked paid.");
  });

  it("all orders: cancelling an order (final: its stock goes back, subscribers are told) asks first, as the order's own page does", async () => {
    fetchMock.mockImplementation(async (_input, init) =>
      init?.method === "PATCH"
        ? json(200, { ...customerOrder, status: "cancelled" })
        : json(200, { items: [customerOrder], total: 1, limit: 25, offset: 0 }),
    );
    renderAt("/admin/orders");
    const row = (await screen.findByRole("link", { name: "Order 3f2a9c1d" })).closest("tr")!;
    fireEvent.change(within(row).getByRole("combobox", { name: "New status for order 3f2a9c1d" }), { target: { value: "cancelled" } });
    fireEvent.click(within(row).getByRole("button", { name: "Update status" }));
    await act(async () => {});
    expect(calls("PATCH")).toEqual([]);
    fireEvent.click(within(row).getByRole("button", { name: "Keep order" }));
    fireEvent.click(within(row).getByRole("button", { name: "Update status" }));
    fireEvent.click(within(row).getByRole("button", { name: "Confirm cancellation" }));
    await waitFor(() => expect(calls("PATCH")).toEqual([`/orders/${customerOrder.id}`]));
    expect(JSON.parse(String(fetchMock.mock.calls.find(([, init]) => init?.method === "PATCH")![1]!.body))).toEqual({ status: "cancelled" });
  });

  it("all orders: Update status pressed from the keyboard keeps focus while its request runs", async () => {
    holding("PATCH", { items: [customerOrder], total: 1, limit: 25, offset: 0 });
    renderAt("/admin/orders");
    const row = (await screen.findByRole("link", { name: "Order 3f2a9c1d" })).closest("tr")!;
    const button = within(row).getByRole("button", { name: "Update status" }) as HTMLButtonElement;
    button.focus();
    fireEvent.click(button);
    // Unavailable, but focusable: a natively disabled button would drop focus to the page.
    await waitFor(() => expect(button.getAttribute("aria-disabled")).toBe("true"));
    expect(button.disabled).toBe(false);
    expect(document.activeElement).toBe(button);
  });

  it("all orders: an Update status pressed from the keyboard that makes the order final leaves focus on the words that say what was done, in a region already on the page", async () => {
    const shipped = { ...customerOrder, status: "shipped" };
    let current = shipped;
    fetchMock.mockImplementation(async (_input, init) => {
      if (init?.method === "PATCH") {
        current = { ...shipped, status: "delivered" };
        return json(200, current);
      }
      return json(200, { items: [current], total: 1, limit: 25, offset: 0 });
    });
    renderAt("/admin/orders");
    const row = (await screen.findByRole("link", { name: "Order 3f2a9c1d" })).closest("tr")!;
    const regions = screen.queryAllByRole("status"); // before any words: a region added with its words is often not read
    pressFromKeyboard(row, "Update status");
    // Delivered is final: the select and Update status go with the re-read, and focus must not fall to the page.
    await waitFor(() => expect(within(row).queryByRole("button", { name: "Update status" })).toBeNull());
    const notice = screen.getByText("Order 3f2a9c1d is now delivered.").closest("[role=status]");
    await waitFor(() => expect(document.activeElement).toBe(notice));
    expect(regions).toContain(notice);
  });

  it("users: Deactivate and Activate pressed from the keyboard leave focus on the words that say what was done", async () => {
    const bob = { ...admin, id: 2, name: "Bob", email: "bob@example.com", role: "user" as const };
    let active = true;
    let answerActivate: (r: Response) => void = () => {};
    fetchMock.mockImplementation(async (_input, init) => {
      if (init?.method === "DELETE") {
        active = false;
        return json(204, null);
      }
      if (init?.method === "PATCH") return new Promise<Response>((r) => (answerActivate = r));
      return json(200, { items: [admin, { ...bob, is_active: active }], total: 2, limit: 25, offset: 0 });
    });
    renderAt("/admin/users");
    const row = await screen.findByRole("row", { name: "bob@example.com" });
    const regions = screen.getAllByRole("status"); // before any words: a region added with its words is often not read
    const deactivate = within(row).getByRole("button", { name: "Deactivate" });
    deactivate.focus();
    fireEvent.click(deactivate);
    fireEvent.click(within(row).getByRole("button", { name: "Confirm deactivation" }));
    const deactivated = await screen.findByText("bob@example.com was deactivated.");
    const notice = deactivated.closest("[role=status]");
    expect(regions).toContain(notice);
    await waitFor(() => expect(document.activeElement).toBe(notice));

    const activate = await within(row).findByRole("button", { name: "Activate" });
    activate.focus();
    fireEvent.click(activate);
    // While it runs it is unavailable, but keeps focus (a disabled button would drop it).
    await waitFor(() => expect(activate.getAttribute("aria-disabled")).toBe("true"));
    expect(document.activeElement).toBe(activate);
    active = true;
    answerActivate(json(200, { ...bob, is_active: true }));
    expect(await screen.findByText("bob@example.com was activated.")).toBeTruthy();
    await waitFor(() => expect(document.activeElement).toBe(notice));
  });

  it("users: a deactivation that ends after the user moved on leaves focus where they took it", async () => {
    const bob = { ...admin, id: 2, name: "Bob", email: "bob@example.com", role: "user" as const };
    let answerDeactivate: (r: Response) => void = () => {};
    fetchMock.mockImplementation(async (_input, init) =>
      init?.method === "DELETE"
        ? new Promise<Response>((r) => (answerDeactivate = r))
        : json(200, { items: [admin, bob], total: 2, limit: 25, offset: 0 }),
    );
    renderAt("/admin/users");
    const row = await screen.findByRole("row", { name: "bob@example.com" });
    const deactivate = within(row).getByRole("button", { name: "Deactivate" });
    deactivate.focus();
    fireEvent.click(deactivate);
    fireEvent.click(within(row).getByRole("button", { name: "Confirm deactivation" }));
    await waitFor(() => expect(calls("DELETE")).toEqual(["/users/2"]));
    // While it runs, the user goes on to something else.
    const elsewhere = screen.getAllByRole("link", { name: "Inventory" })[0];
    elsewhere.focus();
    answerDeactivate(json(204, null));
    expect(await screen.findByText("bob@example.com was deactivated.")).toBeTruthy();
    expect(document.activeElement).toBe(elsewhere);
  });

  it("inventory: a row deleted from the keyboard leaves focus on the next row, or on the words when no row is left", async () => {
    let items = [mug, { ...mug, id: 2, sku: "CUP", name: "Cup" }];
    fetchMock.mockImplementation(async (input, init) => {
      if (init?.method === "DELETE") {
        items = items.filter((i) => String(input) !== `/inventory/${i.sku}`);
        return json(204, null);
      }
      return json(200, { items, total: items.length, limit: 25, offset: 0 });
    });
    renderAt("/admin/inventory");
    await screen.findByRole("row", { name: "MUG" });
    const regions = screen.queryAllByRole("status"); // before any words: a region added with its words is often not read
    deleteFromKeyboard(screen.getByRole("row", { name: "MUG" }));
    await waitFor(() => expect(screen.queryByRole("row", { name: "MUG" })).toBeNull());
    // Where a keyboard user carries on down the list.
    expect(document.activeElement).toBe(within(screen.getByRole("row", { name: "CUP" })).getByRole("button", { name: "Edit" }));
    expect(regions).toContain(screen.getByText("Deleted MUG.").closest("[role=status]"));

    deleteFromKeyboard(screen.getByRole("row", { name: "CUP" }));
    expect(await screen.findByText("No items")).toBeTruthy();
    expect(document.activeElement).toBe(screen.getByText("Deleted CUP.").closest("[role=status]"));
  });

  it("webhooks: a card deleted from the keyboard leaves focus on the next card, or on the words when none is left", async () => {
    const other = { ...hook, id: 10, url: "https://other.example.com/shop" };
    let hooks = [hook, other];
    fetchMock.mockImplementation(async (input, init) => {
      if (init?.method === "DELETE") {
        hooks = hooks.filter((h) => String(input) !== `/orders/webhooks/${h.id}`);
        return json(204, null);
      }
      return json(200, hooksPage(...hooks));
    });
    renderAt("/admin/webhooks");
    await screen.findByRole("article", { name: hook.url });
    const regions = screen.queryAllByRole("status"); // before any words: a region added with its words is often not read
    deleteFromKeyboard(screen.getByRole("article", { name: hook.url }));
    await waitFor(() => expect(screen.queryByRole("article", { name: hook.url })).toBeNull());
    // Where a keyboard user carries on down the list.
    expect(document.activeElement).toBe(within(screen.getByRole("article", { name: other.url })).getByRole("button", { name: "Deliveries" }));
    expect(regions).toContain(screen.getByText(`Deleted the webhook for ${hook.url}.`).closest("[role=status]"));

    deleteFromKeyboard(screen.getByRole("article", { name: other.url }));
    expect(await screen.findByText("No webhooks yet")).toBeTruthy();
    expect(document.activeElement).toBe(screen.getByText(`Deleted the webhook for ${other.url}.`).closest("[role=status]"));
  });

  it("inventory and webhooks: a Confirm delete pressed again before the list is read again sends nothing more", async () => {
    let deleted = false;
    let slow = false;
    let answerLists: (() => void)[] = [];
    fetchMock.mockImplementation(async (input, init) => {
      if (init?.method === "DELETE") {
        deleted = slow = true;
        return json(204, null);
      }
      const list = String(input).startsWith("/inventory") ? { items: deleted ? [] : [mug], total: deleted ? 0 : 1, limit: 25, offset: 0 } : deleted ? hooksPage() : hooksPage(hook);
      // Just after a delete the list's re-read is slow: the row or card stays meanwhile.
      return slow ? new Promise<Response>((r) => answerLists.push(() => r(json(200, list)))) : json(200, list);
    });
    for (const [path, item, words, empty] of [
      ["/admin/inventory", () => screen.getByRole("row", { name: "MUG" }), "Deleted MUG.", "No items"],
      ["/admin/webhooks", () => screen.getByRole("article", { name: hook.url }), `Deleted the webhook for ${hook.url}.`, "No webhooks yet"],
    ] as const) {
      deleted = false;
      fetchMock.mockClear();
      const router = renderAt(path);
      await waitFor(() => expect(item()).toBeTruthy());
      fireEvent.click(within(item()).getByRole("button", { name: "Delete" }));
      fireEvent.click(within(item()).getByRole("button", { name: "Confirm delete" }));
      await screen.findByText(words);
      await waitFor(() => expect(answerLists).toHaveLength(1)); // the re-read, not answered yet
      fireEvent.click(within(item()).getByRole("button", { name: "Confirm delete" }));
      // Any re-read (a second delete's too) is answered: the list is read again without the item.
      slow = false;
      await waitFor(() => {
        answerLists.forEach((answer) => answer());
        answerLists = [];
        expect(screen.getByText(empty)).toBeTruthy();
      });
      expect(calls("DELETE")).toHaveLength(1);
      router.dispose();
      cleanup();
    }
  });

  it("inventory: a search longer than Inventory takes (100) is said on the box and not asked, and the items shown stay", async () => {
    fetchMock.mockResolvedValue(json(200, { items: [mug], total: 1, limit: 25, offset: 0 }));
    renderAt("/admin/inventory");
    await screen.findByRole("row", { name: "MUG" });
    const box = screen.getByRole("searchbox", { name: "Search" });
    typeInto(box, "m".repeat(101));
    await new Promise((r) => setTimeout(r, 400)); // past the box's pause before it searches
    expect(box.getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByText("Shorten this to 100 characters: it has 101.")).toBeTruthy();
    expect(calls("GET").filter((u) => u.includes("q="))).toEqual([]);
    expect(screen.getByRole("row", { name: "MUG" })).toBeTruthy();
    typeInto(box, "m".repeat(100));
    await waitFor(() => expect(calls("GET").filter((u) => u.includes("q="))).toEqual([`/inventory/?q=${"m".repeat(100)}&limit=25&offset=0`]));
  });

  it("inventory: a second search with as many results as the first is said too", async () => {
    const cup = { ...mug, id: 2, sku: "CUP", name: "Cup" };
    fetchMock.mockImplementation(async (input) => {
      const q = new URL(String(input), "http://shop.test").searchParams.get("q");
      const items = [mug, cup].filter((i) => !q || i.sku.toLowerCase() === q);
      return json(200, { items, total: items.length, limit: 25, offset: 0 });
    });
    renderAt("/admin/inventory");
    await screen.findByRole("row", { name: "CUP" });
    const region = document.querySelector("[aria-live=polite][aria-atomic=true]")!; // the app's (Announcer), not a field's
    const search = screen.getByRole("searchbox", { name: "Search" });
    fireEvent.change(search, { target: { value: "mug" } });
    await waitFor(() => expect(region.textContent).toBe("1 result."));
    const first = region.firstChild;
    fireEvent.change(search, { target: { value: "cup" } });
    await waitFor(() => expect(screen.queryByRole("row", { name: "MUG" })).toBeNull());
    // Said again: new words in the region (the same words, as a new node, which a screen reader reads again).
    await waitFor(() => expect(region.firstChild).not.toBe(first));
    expect(region.textContent).toBe("1 result.");
  });

  it("users: another page of the list is said in words, by a live region already on the page", async () => {
    const users = Array.from({ length: 30 }, (_, i) => ({ ...admin, id: i + 1, email: `user${i + 1}@example.com` }));
    fetchMock.mockImplementation(async (input) => {
      const offset = Number(new URL(String(input), "http://shop.test").searchParams.get("offset") ?? 0);
      return json(200, { items: users.slice(offset, offset + 25), total: 30, limit: 25, offset });
    });
    renderAt("/admin/users");
    await screen.findByRole("row", { name: "user1@example.com" });
    const regions = [...document.querySelectorAll("[aria-live=polite]")]; // before any words: a region added with its words is often not read
    expect(screen.queryByText("Showing 1 to 25 of 30 results.")).toBeNull(); // arriving, the heading and the list speak
    const next = screen.getByRole("button", { name: "Next" });
    next.focus();
    fireEvent.click(next);
    await screen.findByRole("row", { name: "user26@example.com" });
    const said = await screen.findByText("Showing 26 to 30 of 30 results.");
    expect(regions).toContain(said.closest("[aria-live=polite]"));
    expect(document.activeElement).toBe(next);
  });
});
