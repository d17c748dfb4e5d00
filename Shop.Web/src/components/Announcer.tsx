import { createContext, useContext, useEffect, useRef, type ReactNode } from "react";
import { hashKey, type QueryKey } from "@tanstack/react-query";
import type { Paged } from "../api/types";
import { SaidWords, useNotice } from "./ui";

const Announce = createContext<(words: string) => void>(() => {});

/**
 * The app's polite live region, for words no element shows as they change (a list's new results). Rendered by Layout,
 * so it is on the page before any words: a region added together with its words is often not read, and a list's own
 * markup comes and goes with its states (loading, empty, rows, no pager when everything fits on a page).
 */
export function Announcer({ children }: { children: ReactNode }) {
  const [said, say] = useNotice();
  return (
    <Announce value={say}>
      {children}
      <div aria-live="polite" aria-atomic="true" className="sr-only">
        <SaidWords said={said} />
      </div>
    </Announce>
  );
}

/**
 * Says `words` in the app's live region: for words a page shows as it arrives (a region of its own, added with its
 * words, is often not read).
 */
export function useAnnounce(): (words: string) => void {
  return useContext(Announce);
}

/** A page of results as a screen reader should hear it ("13–24" would be read as "13 24" at default punctuation). */
export function resultsInWords(page: Paged<unknown>): string {
  const shown = page.items.length;
  if (shown === 0) return "No results.";
  if (page.offset === 0 && shown >= page.total) return shown === 1 ? "1 result." : `${shown} results.`;
  return `Showing ${page.offset + 1} to ${page.offset + shown} of ${page.total} results.`;
}

/**
 * Says a list's results each time they change after the first (another page, a search, a filter, rows gone), which
 * otherwise happens without a word. Said once per change, not per render; the first results are not said (the page's
 * heading and the list itself are what a user arriving reads). `page`: what is shown, or undefined while there is
 * nothing settled to say (first load, a new query's results on their way, on the way back from past the end).
 * `queryKey`: the query `page` answers.
 */
export function useAnnounceResults(page: Paged<unknown> | undefined, queryKey: QueryKey, { pageChangesOnly = false } = {}): void {
  const announce = useAnnounce();
  const words = page ? resultsInWords(page) : null;
  const asked = hashKey(queryKey);
  const heard = useRef<{ words: string; asked: string } | null>(null);
  useEffect(() => {
    if (words === null) return;
    const before = heard.current;
    heard.current = { words, asked };
    if (before === null) return;
    // Results of another query (a second search as long as the first) are said even in the same words: the user asked.
    // pageChangesOnly: a list that moves on its own (re-read on a timer) is said when the user pages, not at every poll.
    if (before.asked !== asked || (!pageChangesOnly && before.words !== words)) announce(words);
  }, [words, asked, pageChangesOnly, announce]);
}
