// One Idempotency-Key per checkout attempt. The same key is reused for a retry or a double click of the same cart, so
// the server makes one order; a different cart gets a new key (reusing a key with a different body would be answered
// 422), and so does the same cart once the key is ATTEMPT_LIFETIME_MS old (see there).

import { withBrowserLock } from "./browserLock";

export interface CheckoutAttempt {
  key: string;
  /** Canonical form of the request body the key was made for. */
  fingerprint: string;
  /** When the key was made (ms since the epoch): its first request, from which the order it placed ages too. */
  madeAt: number;
}

/**
 * How long the same cart keeps its key: 15 minutes from the key's first request. Orders keeps a key's answer 24 h, but
 * a pending order expires after Orders:PendingExpiry (30 minutes), so a key reused for hours would answer a new order
 * with an old one, expired or cancelled by then. The other way round, a key given up too soon lets a retry of an order
 * that was placed (its answer lost) place a second one. Real retries come within minutes (the network back, a 429's
 * Retry-After, a 409 "in progress"): 15 minutes covers them with room, and stays well inside the 30, so what a reused key
 * answers is still a live order. The same cart ordered after that is taken as a new order.
 */
export const ATTEMPT_LIFETIME_MS = 15 * 60_000;

export function fingerprintOf(body: { items: { sku: string; qty: number }[] }): string {
  return JSON.stringify(body.items.map((i) => [i.sku, i.qty]));
}

export function newKey(): string {
  if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") {
    return crypto.randomUUID();
  }
  // Fallback for non-secure contexts (crypto.randomUUID needs https or localhost).
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Returns the attempt to use: the previous one when the body is unchanged and the key young enough, else a fresh key. */
export function attemptFor(
  previous: CheckoutAttempt | null,
  body: { items: { sku: string; qty: number }[] },
  generate: () => string = newKey,
  now: number = Date.now(),
): CheckoutAttempt {
  const fingerprint = fingerprintOf(body);
  if (previous && previous.fingerprint === fingerprint && isYoung(previous, now)) return previous;
  return { key: generate(), fingerprint, madeAt: now };
}

/** Whether the attempt's key may still be sent: younger than ATTEMPT_LIFETIME_MS, and not from the future (the clock set back). */
function isYoung(attempt: CheckoutAttempt, now: number): boolean {
  const age = now - attempt.madeAt;
  return age >= 0 && age < ATTEMPT_LIFETIME_MS;
}

/**
 * Whether the key should be kept after a failure. Transient failures (network, 5xx, timeouts) and
 * answers that say when to retry (Retry-After: a 409 while the first request with this key is still
 * being processed) keep it, so a retry cannot create a second order; a definite answer (4xx) ends the attempt.
 */
export function keepKeyAfterError(status: number, retryAfter: string | null = null): boolean {
  return status === 0 || status === 408 || status === 429 || status >= 500 || retryAfter !== null;
}

// The attempt is kept in localStorage, so every checkout tab of the browser sends the same key for the same cart (two
// tabs clicked would otherwise place two orders), and a reload during a slow request still reuses it. One entry per
// user: keys are per user at Orders, and another user signed in at this browser never takes one over.
const storagePrefix = "shop.checkout.attempt.";
const storageKey = (user: number) => storagePrefix + user;
// Where the code before kept the attempt (sessionStorage, one per tab): nothing reads it any more.
const legacyStorageKey = "shop.checkout.attempt";
const lockName = "shop-checkout-attempt";
// Where storage is unavailable (privacy mode, quota): this tab's memory still covers double clicks and retries.
const inMemory = new Map<number, CheckoutAttempt>();

function loadAttempt(user: number): CheckoutAttempt | null {
  let raw: string | null;
  try {
    raw = localStorage.getItem(storageKey(user));
  } catch {
    return inMemory.get(user) ?? null;
  }
  return parseAttempt(raw);
}

function parseAttempt(raw: string | null): CheckoutAttempt | null {
  try {
    const v = raw ? (JSON.parse(raw) as Partial<CheckoutAttempt>) : null;
    return v && typeof v.key === "string" && typeof v.fingerprint === "string" && typeof v.madeAt === "number"
      ? { key: v.key, fingerprint: v.fingerprint, madeAt: v.madeAt }
      : null;
  } catch {
    return null;
  }
}

function storeAttempt(user: number, attempt: CheckoutAttempt | null): void {
  if (attempt) inMemory.set(user, attempt);
  else inMemory.delete(user);
  try {
    if (attempt) localStorage.setItem(storageKey(user), JSON.stringify(attempt));
    else localStorage.removeItem(storageKey(user));
  } catch {
    /* storage unavailable: the in-memory attempt still protects double clicks */
  }
}

/**
 * Deletes every user's kept attempt that no checkout would send again (older than ATTEMPT_LIFETIME_MS, from the future,
 * unreadable), and the entry the code before kept in sessionStorage. An entry otherwise stays until its user's next
 * checkout or sign-out: a shared browser would keep one, with its user id, for every shopper whose checkout ever failed.
 * Called where an attempt is read or written, and once at start-up (main.tsx).
 */
function sweep(): void {
  const now = Date.now();
  for (const [user, attempt] of inMemory) if (!isYoung(attempt, now)) inMemory.delete(user);
  try {
    sessionStorage.removeItem(legacyStorageKey);
    const stale = Array.from({ length: localStorage.length }, (_, i) => localStorage.key(i)).filter((name): name is string => {
      if (!name?.startsWith(storagePrefix)) return false;
      const attempt = parseAttempt(localStorage.getItem(name));
      return !attempt || !isYoung(attempt, now);
    });
    stale.forEach((name) => localStorage.removeItem(name));
  } catch {
    /* storage unavailable: nothing kept there to sweep */
  }
}

/** The sweep under the Web Lock, so it cannot delete an entry another tab is just making young again. */
export function sweepKeptAttempts(): Promise<void> {
  return withBrowserLock(lockName, () => sweep());
}

/**
 * The attempt `user`'s order of `body` goes with: the one kept (by this tab or another) when it is for this cart and
 * young enough, else a new one, kept. Chosen under a Web Lock, so two tabs clicked at once cannot each make a key.
 */
export function chooseAttempt(user: number, body: { items: { sku: string; qty: number }[] }): Promise<CheckoutAttempt> {
  return withBrowserLock(lockName, () => {
    sweep();
    const attempt = attemptFor(loadAttempt(user), body);
    storeAttempt(user, attempt);
    return attempt;
  });
}

/**
 * The attempt by `key` is over (its order placed, or definitely refused); one another tab has made since is kept. Under
 * the lock, as choosing is: read and delete cannot fall on either side of another tab's choice.
 */
export function endAttempt(user: number, key: string): Promise<void> {
  return withBrowserLock(lockName, () => {
    if (loadAttempt(user)?.key === key) storeAttempt(user, null);
    sweep();
  });
}

/**
 * Forgets `user`'s kept attempt, whatever it is: Sign out does (AuthContext). Not under the lock: a delete that reads
 * nothing first has no read to race, and a tab of the user that chooses after it is signed out by the same sign-out,
 * which forgets again there.
 */
export function forgetAttempt(user: number): void {
  storeAttempt(user, null);
  void sweepKeptAttempts();
}
