// @vitest-environment jsdom
import { afterEach, describe, expect, it } from "vitest";
import {
  ATTEMPT_LIFETIME_MS,
  attemptFor,
  chooseAttempt,
  endAttempt,
  fingerprintOf,
  forgetAttempt,
  keepKeyAfterError,
  newKey,
  sweepKeptAttempts,
} from "./idempotency";
import { fakeLocks, removeFakeLocks } from "../test/fakeLocks";

const body = { items: [{ sku: "A", qty: 1 }, { sku: "B", qty: 2 }] };

describe("idempotency key per checkout attempt", () => {
  it("reuses the key for the same cart (retry / double click)", () => {
    let n = 0;
    const gen = () => `key-${++n}`;
    const first = attemptFor(null, body, gen);
    const second = attemptFor(first, { items: [{ sku: "A", qty: 1 }, { sku: "B", qty: 2 }] }, gen);
    expect(second.key).toBe("key-1");
    expect(second).toBe(first);
  });

  it("makes a new key when the cart changed", () => {
    let n = 0;
    const gen = () => `key-${++n}`;
    const first = attemptFor(null, body, gen);
    const changed = attemptFor(first, { items: [{ sku: "A", qty: 3 }] }, gen);
    expect(changed.key).toBe("key-2");
    expect(changed.fingerprint).toBe(fingerprintOf({ items: [{ sku: "A", qty: 3 }] }));
  });

  it("gives the same cart a new key once the key is ATTEMPT_LIFETIME_MS old (or from the future: the clock set back)", () => {
    let n = 0;
    const gen = () => `key-${++n}`;
    const first = attemptFor(null, body, gen, 1_000_000);
    expect(attemptFor(first, body, gen, 1_000_000 + ATTEMPT_LIFETIME_MS - 1)).toBe(first);
    const later = attemptFor(first, body, gen, 1_000_000 + ATTEMPT_LIFETIME_MS);
    expect(later.key).toBe("key-2");
    expect(later.madeAt).toBe(1_000_000 + ATTEMPT_LIFETIME_MS);
    expect(attemptFor(first, body, gen, 999_999).key).toBe("key-3");
  });

  it("keeps the key only after transient failures", () => {
    expect(keepKeyAfterError(0)).toBe(true); // network
    expect(keepKeyAfterError(503)).toBe(true);
    expect(keepKeyAfterError(504)).toBe(true);
    expect(keepKeyAfterError(409)).toBe(false);
    expect(keepKeyAfterError(400)).toBe(false);
    expect(keepKeyAfterError(422)).toBe(false);
    // 409 "Request in progress": the first request with this key may still place the order.
    expect(keepKeyAfterError(409, "1")).toBe(true);
  });

  it("generates UUID v4 keys within the 255 character limit", () => {
    const a = newKey();
    const b = newKey();
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
    expect(a.length).toBeLessThanOrEqual(255);
  });
});

describe("kept checkout attempts are swept", () => {
  afterEach(() => {
    localStorage.clear();
    sessionStorage.clear();
  });

  const entry = (user: number) => `shop.checkout.attempt.${user}`;
  const keep = (user: number, madeAt: number) =>
    localStorage.setItem(entry(user), JSON.stringify({ key: `key-of-${user}`, fingerprint: fingerprintOf(body), madeAt }));

  /** Kept attempts of other users: one young, one just past the lifetime, one from the future, one unreadable. */
  function keepOthers(): void {
    const now = Date.now();
    keep(7, now - 60_000);
    keep(8, now - ATTEMPT_LIFETIME_MS - 1);
    keep(9, now + ATTEMPT_LIFETIME_MS + 60_000);
    localStorage.setItem(entry(10), "{not json");
    localStorage.setItem("shop.cart.v1", "[]");
  }

  function expectOnlyTheYoungKept(): void {
    expect(localStorage.getItem(entry(7))).not.toBeNull();
    expect(localStorage.getItem(entry(8))).toBeNull(); // older than the lifetime: no checkout will send it again
    expect(localStorage.getItem(entry(9))).toBeNull(); // from the future (the clock set back): never sent either
    expect(localStorage.getItem(entry(10))).toBeNull();
    expect(localStorage.getItem("shop.cart.v1")).toBe("[]"); // not a kept attempt
  }

  it("choosing an attempt deletes every user's kept attempt older than ATTEMPT_LIFETIME_MS, and keeps the young ones", async () => {
    keepOthers();
    await chooseAttempt(1, body);
    expectOnlyTheYoungKept();
    expect(localStorage.getItem(entry(1))).not.toBeNull();
  });

  it("ending or forgetting one user's attempt sweeps the other users' old ones too", () => {
    keepOthers();
    endAttempt(1, "no-such-key");
    expectOnlyTheYoungKept();
    keepOthers();
    forgetAttempt(1);
    expectOnlyTheYoungKept();
  });

  it("ending an attempt waits while another tab holds the lock, so it never deletes a key that tab is just choosing", async () => {
    fakeLocks();
    try {
      const first = await chooseAttempt(1, body);
      let release!: () => void;
      const otherTab = navigator.locks.request("shop-checkout-attempt", () => new Promise<void>((r) => (release = r)));
      await Promise.resolve();
      const ended = endAttempt(1, first.key);
      expect(localStorage.getItem(entry(1))).toContain(first.key); // untouched while the other tab holds the lock
      release();
      await otherTab;
      await ended;
      expect(localStorage.getItem(entry(1))).toBeNull();
    } finally {
      removeFakeLocks();
    }
  });

  it("the start-up sweep deletes the old ones without a checkout", async () => {
    keepOthers();
    await sweepKeptAttempts();
    expectOnlyTheYoungKept();
  });

  it("deletes the attempt the old code kept in sessionStorage, which no checkout reads any more", async () => {
    sessionStorage.setItem("shop.checkout.attempt", JSON.stringify({ key: "legacy", fingerprint: fingerprintOf(body) }));
    sessionStorage.setItem("shop.token", "tok");
    await chooseAttempt(1, body);
    expect(sessionStorage.getItem("shop.checkout.attempt")).toBeNull();
    expect(sessionStorage.getItem("shop.token")).toBe("tok");
  });
});
