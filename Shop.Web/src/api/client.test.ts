// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, buildUrl, endSession, refreshSession, restoreSession, setUnauthorizedHandler } from "./client";
import { ApiError } from "./errors";
import { browserHasSession, clearSession, getSession, saveSession, sessionRestoring } from "./session";
import { fakeLocks, removeFakeLocks } from "../test/fakeLocks";

function jsonResponse(status: number, body: unknown, type = "application/json") {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": type } });
}

const user = { id: 1, name: "Ann", email: "ann@example.com", role: "user" as const, is_active: true, created_at: "2026-01-01T00:00:00Z" };

describe("api client", () => {
  const fetchMock = vi.fn<typeof fetch>();
  beforeEach(() => {
    sessionStorage.clear();
    clearSession();
    fetchMock.mockReset();
    vi.stubGlobal("fetch", fetchMock);
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    setUnauthorizedHandler(null);
  });

  it("builds query strings, skipping empty values", () => {
    expect(buildUrl("/inventory/", { q: "mug", in_stock: true, limit: 12, offset: 0 })).toBe("/inventory/?q=mug&in_stock=true&limit=12&offset=0");
    expect(buildUrl("/inventory/", { q: "", in_stock: false, x: undefined })).toBe("/inventory/");
  });

  it("attaches the bearer token kept in sessionStorage", async () => {
    saveSession({ access_token: "tok", token_type: "bearer", expires_in: 3600, user });
    expect(sessionStorage.getItem("shop.token")).toBe("tok");
    expect(document.cookie).toBe("");
    fetchMock.mockResolvedValueOnce(jsonResponse(200, { items: [], total: 0, limit: 12, offset: 0 }));
    await api.listInventory({ q: "a", limit: 12 });
    const [url, init] = fetchMock.mock.calls[0];
    expect(url).toBe("/inventory/?q=a&limit=12");
    expect((init?.headers as Record<string, string>).Authorization).toBe("Bearer tok");
  });

  it("sends the Idempotency-Key header when placing an order", async () => {
    saveSession({ access_token: "tok", token_type: "bearer", expires_in: 3600, user });
    fetchMock.mockResolvedValueOnce(jsonResponse(201, { id: "o1" }));
    await api.placeOrder({ items: [{ sku: "A", qty: 1 }] }, "key-123");
    const [url, init] = fetchMock.mock.calls[0];
    expect(url).toBe("/orders/");
    expect(init?.method).toBe("POST");
    expect(init?.body).toBe('{"items":[{"sku":"A","qty":1}]}');
    expect((init?.headers as Record<string, string>)["Idempotency-Key"]).toBe("key-123");
  });

  it("on 401 tries the refresh cookie once; when that fails too, clears the session and asks to sign in", async () => {
    saveSession({ access_token: "tok", token_type: "bearer", expires_in: 3600, user });
    const onUnauthorized = vi.fn();
    setUnauthorizedHandler(onUnauthorized);
    fetchMock.mockResolvedValueOnce(jsonResponse(401, { title: "Unauthorized", status: 401 }, "application/problem+json"));
    fetchMock.mockResolvedValueOnce(jsonResponse(401, { title: "Session ended", status: 401 }, "application/problem+json"));
    const err = await api.me().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).message).toBe("Your session has expired. Please sign in again.");
    expect(fetchMock.mock.calls[1][0]).toBe("/users/token/refresh");
    expect(getSession()).toBeNull();
    expect(sessionStorage.getItem("shop.token")).toBeNull();
    expect(onUnauthorized).toHaveBeenCalledOnce();
  });

  it.each([
    ["Users answering 503", () => Promise.resolve(jsonResponse(503, { title: "Service unavailable", status: 503, detail: "users is unavailable. Try again in a few seconds." }, "application/problem+json"))],
    ["no answer at all", () => Promise.reject(new TypeError("Failed to fetch"))],
    ["a proxy's 404 during a deployment", () => Promise.resolve(new Response("Not Found", { status: 404, headers: { "content-type": "text/plain" } }))],
  ])("on 401 with a refresh that cannot be made now (%s), keeps the session and says to try again", async (_, refreshAnswer) => {
    saveSession({ access_token: "tok", token_type: "bearer", expires_in: 3600, user });
    const onUnauthorized = vi.fn();
    setUnauthorizedHandler(onUnauthorized);
    fetchMock.mockResolvedValueOnce(jsonResponse(401, { title: "Unauthorized", status: 401 }, "application/problem+json"));
    fetchMock.mockImplementationOnce(refreshAnswer);
    const err = await api.me().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).message).not.toMatch(/sign in/i);
    expect(getSession()?.token).toBe("tok"); // the refresh cookie may still work once Users is back
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it("on 401 refreshes silently and repeats the request with the new token", async () => {
    saveSession({ access_token: "old", token_type: "bearer", expires_in: 3600, user });
    const onUnauthorized = vi.fn();
    setUnauthorizedHandler(onUnauthorized);
    fetchMock.mockResolvedValueOnce(jsonResponse(401, { title: "Unauthorized", status: 401 }, "application/problem+json"));
    fetchMock.mockResolvedValueOnce(jsonResponse(200, { access_token: "new", token_type: "bearer", expires_in: 600, user }));
    fetchMock.mockResolvedValueOnce(jsonResponse(200, user));
    await expect(api.me()).resolves.toEqual(user);
    expect((fetchMock.mock.calls[2][1]?.headers as Record<string, string>).Authorization).toBe("Bearer new");
    expect(getSession()?.token).toBe("new");
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it("a refresh that comes back as another user (signed in from another tab) ends this tab's session rather than becoming them", async () => {
    saveSession({ access_token: "old", token_type: "bearer", expires_in: 3600, user });
    const onUnauthorized = vi.fn();
    setUnauthorizedHandler(onUnauthorized);
    const bob = { ...user, id: 3, name: "Bob", email: "bob@example.com" };
    fetchMock.mockResolvedValueOnce(jsonResponse(401, { title: "Unauthorized", status: 401 }, "application/problem+json"));
    fetchMock.mockResolvedValueOnce(jsonResponse(200, { access_token: "bobs", token_type: "bearer", expires_in: 600, user: bob }));
    fetchMock.mockResolvedValueOnce(jsonResponse(200, bob));
    await expect(api.me()).rejects.toBeInstanceOf(ApiError);
    expect(getSession()).toBeNull();
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    expect(fetchMock).toHaveBeenCalledTimes(2); // not sent again with Bob's token
  });

  it("a refresh before sending that comes back as another user ends the tab's session as a refused one does, and sends nothing", async () => {
    saveSession({ access_token: "old", token_type: "bearer", expires_in: 1, user });
    vi.spyOn(Date, "now").mockReturnValue(Date.now() + 60_000);
    const onUnauthorized = vi.fn();
    setUnauthorizedHandler(onUnauthorized);
    const bob = { ...user, id: 3, name: "Bob", email: "bob@example.com" };
    fetchMock.mockResolvedValueOnce(jsonResponse(200, { access_token: "bobs", token_type: "bearer", expires_in: 600, user: bob }));
    await expect(api.me()).rejects.toBeInstanceOf(ApiError);
    vi.restoreAllMocks();
    expect(getSession()).toBeNull();
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    expect(fetchMock.mock.calls.map(([url]) => url)).toEqual(["/users/token/refresh"]);
  });

  it("signing out a tab whose token expired does not sign out another user signed in from another tab since", async () => {
    saveSession({ access_token: "old", token_type: "bearer", expires_in: 1, user });
    vi.spyOn(Date, "now").mockReturnValue(Date.now() + 60_000);
    const bob = { ...user, id: 3, name: "Bob", email: "bob@example.com" };
    fetchMock.mockResolvedValue(jsonResponse(200, { access_token: "bobs", token_type: "bearer", expires_in: 600, user: bob }));
    await endSession();
    vi.restoreAllMocks();
    expect(getSession()).toBeNull();
    expect(fetchMock.mock.calls.map(([url]) => url)).toEqual(["/users/token/refresh"]); // no /users/logout with Bob's token
  });

  it("refreshes an expired access token before sending, once for concurrent requests", async () => {
    saveSession({ access_token: "old", token_type: "bearer", expires_in: 1, user });
    vi.spyOn(Date, "now").mockReturnValue(Date.now() + 60_000);
    fetchMock.mockImplementation(async (url) =>
      url === "/users/token/refresh"
        ? jsonResponse(200, { access_token: "new", token_type: "bearer", expires_in: 600, user })
        : jsonResponse(200, user),
    );
    await Promise.all([api.me(), api.me(), api.me()]);
    const refreshes = fetchMock.mock.calls.filter(([url]) => url === "/users/token/refresh");
    expect(refreshes).toHaveLength(1);
    const sent = fetchMock.mock.calls.filter(([url]) => url === "/users/me");
    expect(sent.every(([, init]) => (init?.headers as Record<string, string>).Authorization === "Bearer new")).toBe(true);
    vi.restoreAllMocks();
  });

  it("exchanges the refresh cookie only while holding the browser's lock, so two tabs never present the same refresh token", async () => {
    const held = fakeLocks();
    const heldAtRefresh: (string | null)[] = [];
    fetchMock.mockImplementation(async (url) => {
      if (url !== "/users/token/refresh") return jsonResponse(url === "/users/me" && heldAtRefresh.length === 0 ? 401 : 200, user);
      heldAtRefresh.push(held());
      return jsonResponse(200, { access_token: "new", token_type: "bearer", expires_in: 600, user });
    });
    try {
      saveSession({ access_token: "old", token_type: "bearer", expires_in: 3600, user });
      await expect(api.me()).resolves.toEqual(user); // after a 401
      let now = Date.now();
      vi.spyOn(Date, "now").mockImplementation(() => now);
      now += 3_600_000;
      await expect(api.me()).resolves.toEqual(user); // before sending an expired token
      now += 3_600_000;
      await endSession(); // at sign-out with an expired token
    } finally {
      vi.restoreAllMocks();
      removeFakeLocks();
    }
    expect(heldAtRefresh).toEqual(["shop-refresh", "shop-refresh", "shop-refresh"]);
  });

  it("a failed sign-in (no token) does not redirect", async () => {
    const onUnauthorized = vi.fn();
    setUnauthorizedHandler(onUnauthorized);
    fetchMock.mockResolvedValueOnce(jsonResponse(401, { status: 401, detail: "Invalid email or password." }, "application/problem+json"));
    const err = await api.login({ email: "a@b.c", password: "x" }).catch((e: unknown) => e);
    expect((err as ApiError).message).toBe("Invalid email or password.");
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it("turns a network failure into a readable ApiError", async () => {
    fetchMock.mockRejectedValueOnce(new TypeError("Failed to fetch"));
    const err = await api.login({ email: "a@b.c", password: "x" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(0);
  });

  it("handles 204 and non-JSON error bodies", async () => {
    fetchMock.mockResolvedValueOnce(new Response(null, { status: 204 }));
    await expect(api.deleteItem("A")).resolves.toBeUndefined();
    fetchMock.mockResolvedValueOnce(new Response("<html>Bad gateway</html>", { status: 502, headers: { "content-type": "text/html" } }));
    const err = await api.deleteItem("A").catch((e: unknown) => e);
    expect((err as ApiError).message).toBe("The shop is temporarily unavailable. Please try again in a moment.");
  });
});

describe("the browser's session, shared by its tabs", () => {
  const fetchMock = vi.fn<typeof fetch>();
  const tokens = { access_token: "t1", token_type: "bearer", expires_in: 600, user };
  beforeEach(() => {
    sessionStorage.clear();
    clearSession();
    fetchMock.mockReset();
    vi.stubGlobal("fetch", fetchMock);
    document.cookie = "shop_session=1; Path=/"; // as Users sets it beside the refresh cookie
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
    removeFakeLocks();
    document.cookie = "shop_session=; Max-Age=0; Path=/";
  });

  it.each([
    ["Users does not answer", () => Promise.reject(new TypeError("Failed to fetch")), false],
    ["Users answers 503", () => Promise.resolve(jsonResponse(503, { status: 503 }, "application/problem+json")), false],
    ["Users answers 429", () => Promise.resolve(jsonResponse(429, { status: 429 }, "application/problem+json")), false],
    ["Users ends the session", () => Promise.resolve(new Response(null, { status: 204 })), true],
  ])("Sign out deletes the marker, so no new tab signs in as the shopper who left, even when %s", async (_, logout, ended) => {
    saveSession(tokens);
    fetchMock.mockImplementation((url) => (url === "/users/logout" ? logout() : Promise.resolve(jsonResponse(200, tokens))));
    await expect(endSession()).resolves.toBe(ended); // a logout that did not reach Users is not reported done
    expect(getSession()).toBeNull();
    expect(browserHasSession()).toBe(false);
    await restoreSession(); // the next person at the computer opens a new tab
    expect(getSession()).toBeNull();
    expect(fetchMock.mock.calls.map(([url]) => url)).toEqual(["/users/logout"]);
  });

  it("a sign-out that did not reach Users is sent again, with the session's token, until Users ends the session", async () => {
    vi.useFakeTimers();
    try {
      saveSession(tokens);
      let usersAnswers = false;
      fetchMock.mockImplementation((url) =>
        url !== "/users/logout" || usersAnswers ? Promise.resolve(new Response(null, { status: 204 })) : Promise.reject(new TypeError("Failed to fetch")),
      );
      const logouts = () => fetchMock.mock.calls.filter(([url]) => url === "/users/logout");
      await expect(endSession()).resolves.toBe(false);
      await vi.advanceTimersByTimeAsync(60_000); // still no network: tried again, and again refused
      expect(logouts().length).toBeGreaterThan(1);
      usersAnswers = true;
      const before = logouts().length;
      window.dispatchEvent(new Event("online")); // the network is back: at once, not at the next try
      await vi.advanceTimersByTimeAsync(0);
      expect(logouts()).toHaveLength(before + 1);
      await vi.advanceTimersByTimeAsync(3_600_000);
      expect(logouts()).toHaveLength(before + 1); // ended: not sent again
      expect(logouts().every(([, init]) => (init?.headers as Record<string, string>).Authorization === "Bearer t1")).toBe(true);
      expect(getSession()).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });

  it("a new tab hears another tab's sign-out from the moment its restore begins, before anything is rendered", async () => {
    let answer = (_: Response) => {};
    fetchMock.mockImplementation(() => new Promise<Response>((resolve) => (answer = resolve)));
    const restored = restoreSession(); // as main.tsx: before AuthProvider's effects
    const otherTab = new BroadcastChannel("shop-session");
    otherTab.postMessage({ type: "signed-out", userId: user.id, how: "signed-out" });
    otherTab.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    answer(jsonResponse(200, tokens)); // the refresh got in before the other tab's sign-out reached Users
    await restored;
    expect(getSession()).toBeNull();
  });

  it("a refresh Users never answers gives up after 15 s as unavailable and lets go of the browser's lock", async () => {
    const held = fakeLocks();
    const timeout = AbortSignal.timeout.bind(AbortSignal);
    const asked = vi.spyOn(AbortSignal, "timeout").mockImplementation(() => timeout(20)); // 15 s, shortened
    fetchMock.mockImplementation(
      (_, init) => new Promise<Response>((_, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal!.reason))),
    );
    await expect(refreshSession()).resolves.toMatchObject({ outcome: "unavailable" });
    expect(asked).toHaveBeenCalledWith(15_000);
    expect(held()).toBeNull();
    await restoreSession(); // a new tab: signed out, not "Loading…" for ever
    expect(sessionRestoring()).toBe(false);
    expect(getSession()).toBeNull();
  });

  it("sign-in and registration replace the refresh cookie only while holding the browser's lock, as a refresh does", async () => {
    const held = fakeLocks();
    const heldAt: string[] = [];
    fetchMock.mockImplementation(async (url, init) => {
      heldAt.push(`${String(url)} ${held()} ${(init?.headers as Record<string, string>).Authorization ?? "anonymous"}`);
      return jsonResponse(200, tokens);
    });
    saveSession({ ...tokens, access_token: "alices" }); // signed in here already: sign-in sends no token of hers
    await api.login({ email: "bob@example.com", password: "x" });
    await api.register({ name: "Bob", email: "bob@example.com", password: "x" });
    expect(heldAt).toEqual(["/users/login shop-refresh anonymous", "/users/register shop-refresh anonymous"]);
  });
});
