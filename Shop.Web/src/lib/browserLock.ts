/**
 * Runs `work` while no other tab of this browser holds the Web Lock `name` (one tab at a time, the others waiting in
 * turn). Without Web Locks (old browsers): nothing is held.
 */
export async function withBrowserLock<T>(name: string, work: () => Promise<T> | T): Promise<T> {
  const locks = typeof navigator === "undefined" ? undefined : navigator.locks;
  return locks ? await locks.request(name, () => work()) : work();
}
