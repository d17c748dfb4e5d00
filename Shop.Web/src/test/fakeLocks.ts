// navigator.locks as a browser has it, for tests (jsdom has none).
import { vi } from "vitest";

/**
 * Installs a navigator.locks with one queue per lock name: one holder at a time, the others waiting in turn, so work
 * asked for while another holds the lock runs only after it (as a browser's would). Returns `held()`, the name of the
 * lock being held, or null. Tests remove it with `removeFakeLocks()`.
 */
export function fakeLocks(): () => string | null {
  let held: string | null = null;
  const queues = new Map<string, Promise<unknown>>();
  const request = vi.fn((name: string, work: () => Promise<unknown>) => {
    const turn = (queues.get(name) ?? Promise.resolve()).then(async () => {
      held = name;
      try {
        return await work();
      } finally {
        held = null;
      }
    });
    queues.set(name, turn.catch(() => {}));
    return turn;
  });
  Object.defineProperty(navigator, "locks", { value: { request }, configurable: true });
  return () => held;
}

/** Takes the fake away again: the next test meets a browser without Web Locks, as jsdom is. */
export function removeFakeLocks(): void {
  delete (navigator as { locks?: unknown }).locks;
}
