import { useEffect, useRef, useState } from "react";
import { useSearchParams } from "react-router";
import { useDebounced } from "./useDebounced";

/**
 * A list's filters and page, kept in the URL: Back, a link back to the list and a reload find it as it was left.
 * `set` puts the filters given over the current ones and goes to `offset`, the first page unless told (a changed
 * filter makes another list). Empty filters are left out of the URL.
 */
export function useListParams<K extends string>(filters: readonly K[]) {
  const [params, setParams] = useSearchParams();
  const values = Object.fromEntries(filters.map((k) => [k, params.get(k) ?? ""])) as Record<K, string>;
  const offset = Math.max(0, Number(params.get("offset")) || 0);
  function set(next: Partial<Record<K, string>> & { offset?: number }) {
    const p = new URLSearchParams();
    for (const k of filters) {
      const v = next[k] ?? values[k];
      if (v) p.set(k, v);
    }
    if (next.offset) p.set("offset", String(next.offset));
    setParams(p, { replace: true });
  }
  return { values, offset, set };
}

/**
 * The text box of a filter kept in the URL (the catalogue's search, all orders' user id): what is typed goes to the
 * URL once typing pauses. The box shows the URL's value whenever something else changes it (a nav link that clears
 * it, Back), but not a value it wrote itself: the box may already hold more typing.
 */
export function useParamBox(value: string, write: (typed: string) => void): [string, (typed: string) => void] {
  const [box, setBox] = useState(value);
  const typed = useDebounced(box.trim(), 300);
  const written = useRef(value);
  useEffect(() => {
    if (value === written.current) return;
    written.current = value;
    setBox(value);
  }, [value]);
  // Once per pause in the typing, whatever function the caller passes each render.
  const writeNow = useRef(write);
  writeNow.current = write;
  useEffect(() => {
    if (typed === value) return;
    written.current = typed;
    writeNow.current(typed);
  }, [typed]);
  return [box, setBox];
}
