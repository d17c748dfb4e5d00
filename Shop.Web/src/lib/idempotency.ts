// One Idempotency-Key per checkout attempt. The same key is reused for a retry or a
// double click of the same cart, so the server makes one order; a different cart gets a new key
// (reusing a key with a different body would be answered 422).

export interface CheckoutAttempt {
  key: string;
  /** Canonical form of the request body the key was made for. */
  fingerprint: string;
}

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

/** Returns the attempt to use: the previous one when the body is unchanged, else a fresh key. */
export function attemptFor(
  previous: CheckoutAttempt | null,
  body: { items: { sku: string; qty: number }[] },
  generate: () => string = newKey,
): CheckoutAttempt {
  const fingerprint = fingerprintOf(body);
  if (previous && previous.fingerprint === fingerprint) return previous;
  return { key: generate(), fingerprint };
}

/**
 * Whether the key should be kept after a failure. Transient failures (network, 5xx, timeouts) and
 * answers that say when to retry (Retry-After: a 409 while the first request with this key is still
 * being processed) keep it, so a retry cannot create a second order; a definite answer (4xx) ends the attempt.
 */
export function keepKeyAfterError(status: number, retryAfter: string | null = null): boolean {
  return status === 0 || status === 408 || status === 429 || status >= 500 || retryAfter !== null;
}

const STORAGE_KEY = "shop.checkout.attempt";

export function loadAttempt(): CheckoutAttempt | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const v = JSON.parse(raw) as Partial<CheckoutAttempt>;
    return typeof v.key === "string" && typeof v.fingerprint === "string"
      ? { key: v.key, fingerprint: v.fingerprint }
      : null;
  } catch {
    return null;
  }
}

export function storeAttempt(attempt: CheckoutAttempt | null): void {
  try {
    if (attempt) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(attempt));
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    /* storage unavailable: the in-memory attempt still protects double clicks */
  }
}
