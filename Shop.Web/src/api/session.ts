import type { TokenResponse, User } from "./types";

// The short-lived access token lives in sessionStorage (gone when the tab closes). The session itself is
// carried by the refresh token, an HttpOnly cookie that script cannot read, shared by the browser's tabs: see
// refreshSession and restoreSession in client.ts.
const TOKEN_KEY = "shop.token";
const USER_KEY = "shop.user";
const EXPIRES_KEY = "shop.expires_at";

export interface Session {
  token: string;
  user: User;
  expiresAt: number;
}

type Listener = () => void;
const listeners = new Set<Listener>();
let cached: Session | null | undefined;
/** How this tab's last session ended: by Sign out here, by Sign out everywhere, or by the shop refusing it (expired, revoked). */
export type SessionEnd = "signed-out" | "signed-out-everywhere" | "refused";
let ended: SessionEnd | null = null;
/** True while this tab, opened without a session of its own, asks for the browser's (restoreSession in client.ts). */
let isRestoring = false;
/** Users of whom another tab said they signed out while this one was restoring (see restoreSession in client.ts). */
const signedOutWhileRestoring = new Set<number>();

function storage(): Storage | null {
  try {
    return typeof sessionStorage === "undefined" ? null : sessionStorage;
  } catch {
    return null;
  }
}

function read(): Session | null {
  const s = storage();
  if (!s) return null;
  const token = s.getItem(TOKEN_KEY);
  const userJson = s.getItem(USER_KEY);
  if (!token || !userJson) return null;
  try {
    const user = JSON.parse(userJson) as User;
    const expiresAt = Number(s.getItem(EXPIRES_KEY)) || 0;
    return { token, user, expiresAt };
  } catch {
    return null;
  }
}

/** The signed-in session; its access token may have expired (the client refreshes it before use). */
export function getSession(): Session | null {
  if (cached === undefined) cached = read();
  return cached;
}

/** True when the access token is gone or about to expire and should be refreshed before it is sent. */
export function tokenNeedsRefresh(session: Session, now = Date.now()): boolean {
  return session.expiresAt > 0 && session.expiresAt - 5_000 <= now;
}

export function getToken(): string | null {
  return getSession()?.token ?? null;
}

export function saveSession(response: TokenResponse): Session {
  const session: Session = {
    token: response.access_token,
    user: response.user,
    expiresAt: response.expires_in ? Date.now() + response.expires_in * 1000 : 0,
  };
  const s = storage();
  s?.setItem(TOKEN_KEY, session.token);
  s?.setItem(USER_KEY, JSON.stringify(session.user));
  s?.setItem(EXPIRES_KEY, String(session.expiresAt));
  cached = session;
  ended = null;
  emit();
  return session;
}

export function updateSessionUser(user: User): void {
  const current = getSession();
  if (!current) return;
  cached = { ...current, user };
  storage()?.setItem(USER_KEY, JSON.stringify(user));
  emit();
}

/** Signs this tab out. `how`: what the pages make of it (the sign-in page says a refused session has ended). */
export function clearSession(how: SessionEnd | null = null): void {
  const s = storage();
  s?.removeItem(TOKEN_KEY);
  s?.removeItem(USER_KEY);
  s?.removeItem(EXPIRES_KEY);
  const had = cached !== null;
  cached = null;
  ended = how;
  if (had) emit();
}

/** How this tab, signed out now, came to be (see clearSession); null when not told, or once sign in has said it. */
export function sessionEnd(): SessionEnd | null {
  return ended;
}

/**
 * The sign-in page has taken how the session ended into its own state: later redirects to sign in are someone's own
 * links (the next person at a shared computer), brought back to after sign in, and not told about that ending again.
 */
export function forgetSessionEnd(): void {
  if (ended === null) return;
  ended = null;
  emit();
}

/** Users' marker cookie (`SessionsApi.SessionMarkerCookie`): "1" while the browser holds a refresh cookie. */
const SESSION_MARKER = "shop_session";

/**
 * Users sets this cookie beside the refresh cookie, and deletes it with it: script cannot see the refresh cookie, and
 * asking for a refresh on every page load of a visitor who never signed in would only be refused.
 */
export function browserHasSession(): boolean {
  try {
    return typeof document !== "undefined" && document.cookie.split(";").some((c) => c.trim() === `${SESSION_MARKER}=1`);
  } catch {
    return false;
  }
}

export function sessionRestoring(): boolean {
  return isRestoring;
}

export function setSessionRestoring(now: boolean): void {
  if (now) signedOutWhileRestoring.clear();
  if (isRestoring === now) return;
  isRestoring = now;
  emit();
}

/** Whether another tab said `userId` signed out since this tab began restoring: a session it ended, not to be taken. */
export function signedOutSinceRestoreBegan(userId: number): boolean {
  return signedOutWhileRestoring.has(userId);
}

// The browser's tabs share one session (the refresh cookie): signing it out in one ends it for all of them.
type SignOutMessage = { type: "signed-out"; userId: number; how: "signed-out" | "signed-out-everywhere" };
let channel: BroadcastChannel | null | undefined;

/** One channel a tab: a message is not delivered back to the channel object that sent it. */
function otherTabs(): BroadcastChannel | null {
  if (channel === undefined) channel = typeof BroadcastChannel === "undefined" ? null : new BroadcastChannel("shop-session");
  return channel;
}

/**
 * Deletes Users' marker cookie, so that no new tab restores the session from the refresh cookie (which script cannot
 * delete, and Users cannot at sign-out: it is never sent there). Whether or not the sign-out reaches Users, the next
 * person at a shared computer is not signed in as the shopper who left; the next sign-in or refresh sets it again.
 */
export function forgetBrowserSession(): void {
  try {
    if (typeof document !== "undefined") document.cookie = `${SESSION_MARKER}=; Max-Age=0; Path=/; Secure; SameSite=Strict`;
  } catch {
    // No cookies here (a sandboxed frame): nothing to forget.
  }
}

/** Signs this tab out `how`, on purpose, and tells the browser's other tabs, whose session it ends on the server too. */
export function signOutEveryTab(how: SignOutMessage["how"]): void {
  const userId = getSession()?.user.id;
  forgetBrowserSession();
  clearSession(how);
  if (userId !== undefined) otherTabs()?.postMessage({ type: "signed-out", userId, how } satisfies SignOutMessage);
}

let listening = false;

/**
 * Signs this tab out when another tab signs its user out. Another user's sign-out is not this tab's: someone signed in
 * as another user in another tab since (refreshSession in client.ts deals with that). Once a tab, for its whole life:
 * restoreSession starts it before its refresh is sent, as a sign-out told before AuthProvider's effect ran would be
 * lost (and the restore take the ended session); later calls, AuthProvider's, add nothing, and nothing removes it.
 */
export function listenToOtherTabs(): void {
  const tabs = otherTabs();
  if (!tabs || listening) return;
  listening = true;
  const onMessage = (event: MessageEvent) => {
    const message = event.data as Partial<SignOutMessage> | null;
    if (message?.type !== "signed-out" || typeof message.userId !== "number") return;
    if (isRestoring) signedOutWhileRestoring.add(message.userId);
    if (getSession()?.user.id === message.userId) clearSession(message.how === "signed-out-everywhere" ? message.how : "signed-out");
  };
  tabs.addEventListener("message", onMessage);
}

export function subscribeSession(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function emit() {
  for (const l of listeners) l();
}
