import { ApiError, networkError, problemToError } from "./errors";
import { withBrowserLock } from "../lib/browserLock";
import {
  browserHasSession,
  clearSession,
  getSession,
  listenToOtherTabs,
  saveSession,
  setSessionRestoring,
  signedOutSinceRestoreBegan,
  signOutEveryTab,
  tokenNeedsRefresh,
} from "./session";
import type {
  InventoryItem,
  Order,
  OrderEvent,
  OrderRequest,
  OrderStatus,
  Paged,
  ProblemDetails,
  Role,
  TokenResponse,
  User,
  Webhook,
  WebhookDelivery,
  WebhookEvent,
} from "./types";

// Same-origin relative URLs: the gateway routes /users, /orders and /inventory to the services.

type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  method?: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  body?: unknown;
  query?: Query;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Sent without this tab's token, and a 401 is the answer (no refresh): sign-in and registration. */
  anonymous?: boolean;
}

let unauthorizedHandler: (() => void) | null = null;

/** The app registers how to go to the sign-in page when an authenticated call gets a 401. */
export function setUnauthorizedHandler(handler: (() => void) | null): void {
  unauthorizedHandler = handler;
}

export function buildUrl(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "" || value === false) continue;
    params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}${path.includes("?") ? "&" : "?"}${qs}` : path;
}

async function readProblem(response: Response): Promise<ProblemDetails | null> {
  const type = response.headers.get("content-type") ?? "";
  if (!type.includes("json")) return null;
  try {
    const body: unknown = await response.json();
    return body && typeof body === "object" && !Array.isArray(body) ? (body as ProblemDetails) : null;
  } catch {
    return null;
  }
}

/**
 * What exchanging the refresh cookie came to: new tokens; the session has ended (the server refused the
 * cookie); or no answer that says either (Users away, the network down), when the session may still be good.
 */
type Refresh =
  | { outcome: "refreshed"; tokens: TokenResponse }
  | { outcome: "ended" }
  | { outcome: "unavailable"; error: ApiError };

/**
 * A refresh holds the browser's lock (withRefreshLock): one that hung would keep every tab waiting, a new one at
 * "Loading…", for ever. Past this it is given up as unanswered.
 */
const refreshTimeoutMs = 15_000;

async function fetchRefreshedTokens(): Promise<Refresh> {
  let response: Response;
  try {
    response = await fetch("/users/token/refresh", {
      method: "POST",
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      // Browsers without AbortSignal.timeout (before 2022) wait as the network lets them.
      signal: typeof AbortSignal.timeout === "function" ? AbortSignal.timeout(refreshTimeoutMs) : undefined,
    });
  } catch {
    return { outcome: "unavailable", error: networkError() };
  }
  if (response.ok) {
    try {
      return { outcome: "refreshed", tokens: (await response.json()) as TokenResponse };
    } catch {
      return { outcome: "unavailable", error: new ApiError(response.status, "The shop sent an unexpected answer. Please try again.") };
    }
  }
  // Only Users refusing the cookie ends the session. Anything else (429, 5xx, a proxy's 404 or 408 during a
  // deployment) says nothing about it: signing the shopper out for that would turn a short outage into a new sign-in.
  if (response.status === 400 || response.status === 401 || response.status === 403) return { outcome: "ended" };
  const error = problemToError(response.status, await readProblem(response), { retryAfter: response.headers.get("retry-after") });
  return { outcome: "unavailable", error };
}

/**
 * Runs `work`, which reads or replaces the refresh cookie, while no other tab of this browser does: the tabs share it,
 * and the server treats a second use of one refresh token as theft and ends the session. A tab that waited finds the
 * cookie another tab left in the jar, the session's next token. Sign-in and registration replace it too, so they take
 * the lock as well: else a refresh of the last user's, on its way, could land after them and put that user's rotated
 * token back in the jar. Without Web Locks (old browsers): nothing is held.
 */
function withRefreshLock<T>(work: () => Promise<T>): Promise<T> {
  return withBrowserLock("shop-refresh", work);
}

function exchangeRefreshCookie(): Promise<Refresh> {
  return withRefreshLock(fetchRefreshedTokens);
}

let refreshing: Promise<Refresh> | null = null;

/**
 * Exchanges the refresh cookie for a new access token. One refresh at a time: concurrent callers share
 * it, and other tabs wait for it (exchangeRefreshCookie).
 */
export function refreshSession(): Promise<Refresh> {
  refreshing ??= exchangeRefreshCookie()
    .then((refresh): Refresh => {
      const current = getSession();
      if (refresh.outcome !== "refreshed" || !current) return refresh;
      // The refresh cookie is the browser's, shared by its tabs: after someone signed in as another user in another
      // tab, it names them. This tab's session (and the data it shows) was the first user's: it ends, rather than
      // quietly becoming the other user's with the first one's pages still on screen.
      if (refresh.tokens.user.id !== current.user.id) {
        clearSession("refused");
        return { outcome: "ended" };
      }
      saveSession(refresh.tokens);
      return refresh;
    })
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

let pendingRestore: Promise<void> | null = null;

/**
 * A tab opened without a session of its own (a link opened in a new tab, a new window) takes the browser's, signed in
 * in another tab, from the refresh cookie; only when Users' marker cookie says there is one, so a visitor who never
 * signed in sends nothing to be refused. A refusal or no answer leaves the tab signed out, quietly: it had no session
 * here to lose. Until the answer, pages wait rather than send the shopper to sign in (sessionRestoring).
 */
export function restoreSession(): Promise<void> {
  if (pendingRestore) return pendingRestore;
  if (getSession() || !browserHasSession()) return Promise.resolve();
  // Before the refresh is sent: a sign-out another tab tells while it is on its way must be heard (signedOutSinceRestoreBegan).
  listenToOtherTabs();
  setSessionRestoring(true);
  pendingRestore = exchangeRefreshCookie()
    .then((refresh) => {
      // Not when this tab signed in meanwhile, nor when another tab signed this session out while it was on its way.
      if (refresh.outcome !== "refreshed" || getSession() || signedOutSinceRestoreBegan(refresh.tokens.user.id)) return;
      saveSession(refresh.tokens);
    })
    .catch(() => {}) // signed out, as by a refusal
    .finally(() => {
      pendingRestore = null;
      setSessionRestoring(false);
    });
  return pendingRestore;
}

/** The session is over for this tab: it is signed out here, and the page is sent to sign in (told the session ended). */
function signedOutHere(): void {
  clearSession("refused");
  unauthorizedHandler?.();
}

/** The access token to send: refreshed first when it has expired or is about to. */
async function currentToken(): Promise<string | null> {
  const session = getSession();
  if (session && tokenNeedsRefresh(session) && (await refreshSession()).outcome === "ended") {
    // As a 401 whose refresh fails: signed out here and sent to sign in (told the session ended), nothing sent.
    signedOutHere();
    throw problemToError(401, null, { authenticated: true });
  }
  return getSession()?.token ?? null;
}

/**
 * Signs out here at once, and the browser's other tabs of the same user, which share the session, and deletes the
 * marker so no new tab restores it (signOutEveryTab); then ends it on the server (its refresh token and access tokens).
 * True when Users said it ended it; false when it did not (no answer, 429, 503, or no token of this user's to send).
 * A sign-out sent but not answered ok is sent again while this tab is open (sendSignOutAgain).
 */
export async function endSession(): Promise<boolean> {
  const session = getSession();
  signOutEveryTab("signed-out");
  if (!session) return false;
  let token: string | undefined = session.token;
  if (tokenNeedsRefresh(session)) {
    const refresh = await exchangeRefreshCookie();
    // Ended: the server has ended the session already. Unavailable: it ends when its refresh token expires. Another
    // user's tokens (signed in from another tab since): theirs is not the session being signed out here.
    token = refresh.outcome === "refreshed" && refresh.tokens.user.id === session.user.id ? refresh.tokens.access_token : undefined;
  }
  if (!token) return false;
  if (await sendSignOut(token)) return true;
  // Signed out here regardless, and no new tab restores the session (its marker is gone); but its refresh cookie stays
  // in the browser until it closes, and works there for anyone who asks /users/token/refresh by hand.
  sendSignOutAgain(token, 1);
  return false;
}

async function sendSignOut(token: string): Promise<boolean> {
  try {
    const response = await fetch("/users/logout", {
      method: "POST",
      headers: { Authorization: `Bearer ${token}` },
      credentials: "same-origin",
      keepalive: true,
    });
    return response.ok;
  } catch {
    return false;
  }
}

const signOutRetryFirstMs = 5_000;
const signOutRetryLongestMs = 300_000;
const signOutAttemptsMax = 20; // 5 s doubling to 5 min: given up after about an hour and a quarter
const unsentSignOuts = new Set<() => void>();

/**
 * Sends a sign-out that Users did not answer ok again, at once when the browser is back online and otherwise after a
 * growing wait, until Users ends the session. The token is the session's own; Users takes it to name the session
 * even once it has expired. A tab closed before then leaves the session to end with the browser (its cookie) or at
 * Jwt:RefreshLifetime (Jwt:SessionMaxLifetime after the sign-in at the latest).
 */
function sendSignOutAgain(token: string, attempt: number): void {
  if (attempt > signOutAttemptsMax) return;
  const send = () => {
    stop();
    void sendSignOut(token).then((ended) => {
      if (!ended) sendSignOutAgain(token, attempt + 1);
    });
  };
  const timer = setTimeout(send, Math.min(signOutRetryFirstMs * 2 ** (attempt - 1), signOutRetryLongestMs));
  window.addEventListener("online", send);
  const stop = () => {
    clearTimeout(timer);
    window.removeEventListener("online", send);
    unsentSignOuts.delete(stop);
  };
  unsentSignOuts.add(stop);
}

/** Stops sending the sign-outs not answered yet: for tests, whose next one must not receive them. */
export function stopSendingSignOuts(): void {
  for (const stop of [...unsentSignOuts]) stop();
}

export async function apiRequest<T>(path: string, options: RequestOptions = {}, retried = false): Promise<T> {
  const token = options.anonymous ? null : await currentToken();
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;

  let response: Response;
  try {
    response = await fetch(buildUrl(path, options.query), {
      method: options.method ?? "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
      credentials: "same-origin",
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw networkError();
  }

  if (!response.ok) {
    const problem = await readProblem(response);
    const error = problemToError(response.status, problem, {
      authenticated: Boolean(token),
      retryAfter: response.headers.get("retry-after"),
    });
    if (response.status === 401 && token) {
      // The token expired or the account changed (role, password): a fresh one from the refresh
      // cookie carries the current state. Only when that fails is the user really signed out.
      const refresh = retried ? null : await refreshSession();
      if (refresh?.outcome === "refreshed") return apiRequest<T>(path, options, true);
      if (refresh?.outcome === "unavailable") throw refresh.error; // still signed in: try again later
      signedOutHere();
    }
    throw error;
  }

  if (response.status === 204) return undefined as T;
  const text = await response.text();
  if (!text) return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(response.status, "The shop sent an unexpected answer. Please try again.");
  }
}

export interface PageQuery {
  limit?: number;
  offset?: number;
}

export const api = {
  // Users
  // They replace the browser's refresh cookie: under its lock (withRefreshLock). Anonymous: a token of this tab's would
  // only, on a 401, start a refresh, waiting for the lock held here.
  login: (body: { email: string; password: string }) =>
    withRefreshLock(() => apiRequest<TokenResponse>("/users/login", { method: "POST", body, anonymous: true })),
  register: (body: { name: string; email: string; password: string }) =>
    withRefreshLock(() => apiRequest<TokenResponse>("/users/register", { method: "POST", body, anonymous: true })),
  me: () => apiRequest<User>("/users/me"),
  listUsers: (q: PageQuery) => apiRequest<Paged<User>>("/users/", { query: { ...q } }),
  /** A change of one's own email or password needs `current_password`. */
  updateUser: (
    id: number,
    body: Partial<{ role: Role; is_active: boolean; name: string; email: string; password: string; current_password: string }>,
  ) => apiRequest<User>(`/users/${id}`, { method: "PATCH", body }),
  /** Ends every session and access token of the signed-in account, this tab's included. */
  logoutEverywhere: () => apiRequest<void>("/users/logout-everywhere", { method: "POST" }),
  deactivateUser: (id: number) => apiRequest<void>(`/users/${id}`, { method: "DELETE" }),

  // Inventory
  getItem: (sku: string) => apiRequest<InventoryItem>(`/inventory/${encodeURIComponent(sku)}`),
  listInventory: (q: PageQuery & { q?: string; in_stock?: boolean }) =>
    apiRequest<Paged<InventoryItem>>("/inventory/", { query: { ...q } }),
  /** `qty` left out: Inventory creates the item with none in stock. */
  createItem: (body: { sku: string; name: string; price: number; qty?: number }) =>
    apiRequest<InventoryItem>("/inventory/", { method: "POST", body }),
  updateItem: (sku: string, body: Partial<{ name: string; price: number; qty: number }>) =>
    apiRequest<InventoryItem>(`/inventory/${encodeURIComponent(sku)}`, { method: "PATCH", body }),
  adjustStock: (sku: string, delta: number) =>
    apiRequest<InventoryItem>(`/inventory/${encodeURIComponent(sku)}/adjust`, {
      method: "POST",
      body: { delta },
    }),
  deleteItem: (sku: string) =>
    apiRequest<void>(`/inventory/${encodeURIComponent(sku)}`, { method: "DELETE" }),

  // Orders
  placeOrder: (body: OrderRequest, idempotencyKey: string) =>
    apiRequest<Order>("/orders/", {
      method: "POST",
      body,
      headers: { "Idempotency-Key": idempotencyKey },
    }),
  listOrders: (q: PageQuery & { status?: OrderStatus | ""; user_id?: number | string }) =>
    apiRequest<Paged<Order>>("/orders/", { query: { ...q } }),
  getOrder: (id: string) => apiRequest<Order>(`/orders/${encodeURIComponent(id)}`),
  orderEvents: (id: string) =>
    apiRequest<OrderEvent[] | Paged<OrderEvent>>(`/orders/${encodeURIComponent(id)}/events`),
  setOrderStatus: (id: string, status: OrderStatus) =>
    apiRequest<Order>(`/orders/${encodeURIComponent(id)}`, { method: "PATCH", body: { status } }),

  // Webhooks (admin)
  listWebhooks: (q: PageQuery) => apiRequest<Paged<Webhook>>("/orders/webhooks", { query: { ...q } }),
  createWebhook: (body: { url: string; events: WebhookEvent[]; secret?: string }) =>
    apiRequest<Webhook>("/orders/webhooks", { method: "POST", body }),
  /** A new signing secret, in this answer only; the previous one keeps signing for a grace period. */
  rotateWebhookSecret: (id: Webhook["id"]) =>
    apiRequest<Webhook>(`/orders/webhooks/${encodeURIComponent(String(id))}/rotate-secret`, { method: "POST" }),
  deleteWebhook: (id: Webhook["id"]) =>
    apiRequest<void>(`/orders/webhooks/${encodeURIComponent(String(id))}`, { method: "DELETE" }),
  webhookDeliveries: (id: Webhook["id"], q: PageQuery) =>
    apiRequest<Paged<WebhookDelivery>>(
      `/orders/webhooks/${encodeURIComponent(String(id))}/deliveries`,
      { query: { ...q } },
    ),
};

/** Accepts either a bare array or a paged envelope (lists whose shape the contract leaves open). */
export function itemsOf<T>(value: T[] | Paged<T> | undefined): T[] {
  if (!value) return [];
  return Array.isArray(value) ? value : value.items;
}
