// @vitest-environment jsdom
// A tab opened without a session of its own (a link opened in a new tab, a new window) in a browser signed in elsewhere.
import { afterEach, describe, expect, it, vi } from "vitest";
import { screen, waitFor } from "@testing-library/react";
import { getSession, signedOutSinceRestoreBegan } from "../api/session";
import { eachTestSignedOutWith, json, renderAt } from "../test/app";

const customer = { id: 2, name: "Bob", email: "bob@example.com", role: "user" as const, is_active: true, created_at: "2026-01-01T00:00:00Z" };
const noOrders = { items: [], total: 0, limit: 20, offset: 0 };
const fetchMock = vi.fn<typeof fetch>();
const refreshes = () => fetchMock.mock.calls.filter(([url]) => String(url) === "/users/token/refresh").length;

/** The cookie Users sets beside the refresh cookie (which script cannot see) while the browser holds a sign-in. */
const markSignedIn = () => (document.cookie = "shop_session=1; Path=/");

eachTestSignedOutWith(fetchMock);
afterEach(() => {
  document.cookie = "shop_session=; Max-Age=0; Path=/";
});

describe("a new tab", () => {
  it("opened at a signed-in page takes the browser's session from the refresh cookie, without showing sign in first", async () => {
    markSignedIn();
    let answerRefresh = (_: Response) => {};
    fetchMock.mockImplementation((input) => {
      if (String(input) === "/users/token/refresh") return new Promise<Response>((resolve) => (answerRefresh = resolve));
      return Promise.resolve(json(200, noOrders));
    });
    const router = renderAt("/my/orders");
    await waitFor(() => expect(refreshes()).toBe(1));
    // While the refresh is on its way: neither sent to sign in nor offered Sign in.
    expect(router.state.location.pathname).toBe("/my/orders");
    expect(screen.queryByRole("link", { name: "Sign in" })).toBeNull();
    answerRefresh(json(200, { access_token: "t", token_type: "bearer", expires_in: 600, user: customer }));
    expect(await screen.findByRole("heading", { level: 1, name: "My orders" })).toBeTruthy();
    expect(screen.getByText("Bob")).toBeTruthy();
    expect(getSession()?.user.id).toBe(customer.id);
    expect(refreshes()).toBe(1);
  });

  it("that hears another tab sign the shopper out while its restore is on its way does not take the ended session", async () => {
    markSignedIn();
    let answerRefresh = (_: Response) => {};
    fetchMock.mockImplementation((input) =>
      String(input) === "/users/token/refresh" ? new Promise<Response>((resolve) => (answerRefresh = resolve)) : Promise.resolve(json(200, noOrders)),
    );
    renderAt("/my/orders");
    await waitFor(() => expect(refreshes()).toBe(1));
    const otherTab = new BroadcastChannel("shop-session");
    otherTab.postMessage({ type: "signed-out", userId: customer.id, how: "signed-out" });
    otherTab.close();
    await waitFor(() => expect(signedOutSinceRestoreBegan(customer.id)).toBe(true));
    // The refresh got in before the other tab's sign-out reached the server.
    answerRefresh(json(200, { access_token: "t", token_type: "bearer", expires_in: 600, user: customer }));
    expect(await screen.findByRole("heading", { level: 1, name: "Sign in" })).toBeTruthy();
    expect(getSession()).toBeNull();
  });

  it("of a visitor who never signed in (no marker cookie) sends no refresh: sign in, at once", async () => {
    fetchMock.mockResolvedValue(json(200, noOrders));
    renderAt("/my/orders");
    expect(await screen.findByRole("heading", { level: 1, name: "Sign in" })).toBeTruthy();
    expect(refreshes()).toBe(0);
  });

  it.each([
    ["refused (signed out, expired)", () => Promise.resolve(json(401, { status: 401, title: "Session ended" }, "application/problem+json"))],
    ["unavailable (503)", () => Promise.resolve(json(503, { status: 503, title: "Service unavailable" }, "application/problem+json"))],
    ["unanswered (network down)", () => Promise.reject(new TypeError("Failed to fetch"))],
  ])("whose restore is %s is signed out quietly: sign in, with no word of an ended session or an error", async (_, answer) => {
    markSignedIn();
    fetchMock.mockImplementation((input) => (String(input) === "/users/token/refresh" ? answer() : Promise.resolve(json(200, noOrders))));
    renderAt("/my/orders");
    expect(await screen.findByRole("heading", { level: 1, name: "Sign in" })).toBeTruthy();
    expect(refreshes()).toBe(1);
    expect(screen.queryByRole("alert")).toBeNull();
    expect(screen.queryByText(/session has ended/i)).toBeNull();
    expect(getSession()).toBeNull();
  });
});
