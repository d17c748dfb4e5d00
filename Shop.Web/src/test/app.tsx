// What the page tests share: the whole app rendered at an address, and the shop's answers as fetch returns them.
import { afterEach, beforeEach, expect, vi, type Mock } from "vitest";
import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { QueryClientProvider, type QueryClient } from "@tanstack/react-query";
import { createMemoryRouter, RouterProvider } from "react-router";
import { restoreSession } from "../api/client";
import { createQueryClient } from "../api/queries";
import { clearSession, setSessionRestoring } from "../api/session";
import { AuthProvider } from "../auth/AuthContext";
import { routes } from "../router";
import { HoldsProvider } from "../lib/useRetryAfterHold";

/** The app as main.tsx puts it together (its routes, auth, holds, a query cache), opened at `path`. */
export function renderAt(path: string, queryClient: QueryClient = createQueryClient()) {
  const router = createMemoryRouter(routes, { initialEntries: [path] });
  void restoreSession();
  render(
    <QueryClientProvider client={queryClient}>
      <AuthProvider>
        <HoldsProvider>
          <RouterProvider router={router} />
        </HoldsProvider>
      </AuthProvider>
    </QueryClientProvider>,
  );
  return router;
}

/** Every test of the file starts signed out with empty storage, and gets the shop's answers from `fetchMock`. */
export function eachTestSignedOutWith(fetchMock: Mock<typeof fetch>) {
  beforeEach(() => {
    sessionStorage.clear();
    localStorage.clear();
    clearSession();
    // A test that ended with its restore still on its way would otherwise start the next one at "Loading…".
    setSessionRestoring(false);
    fetchMock.mockReset();
    vi.stubGlobal("fetch", fetchMock);
  });
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
  });
}

/** A JSON answer (a 204 has no body, as the shop sends it). */
export function json(status: number, body: unknown, type = "application/json") {
  return new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { "content-type": type } });
}

/** A 429 as the gateway answers it: its problem+json and how long to wait. */
export function tooManyRequests(retryAfter: string) {
  return new Response(JSON.stringify({ status: 429, title: "Too Many Requests" }), {
    status: 429,
    headers: { "content-type": "application/problem+json", "retry-after": retryAfter },
  });
}

/**
 * The button `button()` finds, pressed from the keyboard and refused with a 429 whose alert says `words`: it is then
 * held, still focusable (a natively disabled button drops a keyboard user's focus to the page) and described by those
 * words, and neither a press nor Enter in its form sends again (`sent`: the writes sent so far).
 */
export async function pressRefusedAndHeld(button: () => HTMLElement, words: string, sent: () => number) {
  const press = button() as HTMLButtonElement;
  press.focus();
  fireEvent.click(press);
  expect((await screen.findByRole("alert")).textContent).toBe(words);
  await waitFor(() => expect(button().getAttribute("aria-disabled"), press.textContent ?? "").toBe("true"));
  expect(button()).toBe(press);
  expect(press.disabled).toBe(false);
  expect(document.activeElement).toBe(press);
  expectHeldExplanation(press);
  const before = sent();
  fireEvent.click(press);
  const form = press.closest("form");
  if (form) fireEvent.submit(form); // Enter in a field submits without the button
  await act(async () => {});
  expect(sent()).toBe(before);
}

/**
 * A button held by a Retry-After explains it as every held button does: in sight and as its description, the same
 * words, when it can be sent again; not in a live region (the refusal's alert is what is said, once).
 */
export function expectHeldExplanation(button: HTMLElement) {
  const explanation = document.getElementById(button.getAttribute("aria-describedby") ?? "");
  expect(explanation?.textContent, button.textContent ?? "").toMatch(/^The shop asked to wait: try again at \d\d:\d\d\.$/);
  expect(explanation?.closest(".sr-only"), button.textContent ?? "").toBeNull();
  expect(explanation?.closest("[aria-live], [role=alert], [role=status]"), button.textContent ?? "").toBeNull();
}

/**
 * Types or pastes `text` into `field` as a browser does: no more than its maxLength, which counts UTF-16 units (an
 * emoji is two), the rest dropped without a word. fireEvent.change alone would put in what no browser would.
 */
export function typeInto(field: HTMLElement, text: string) {
  const input = field as HTMLInputElement;
  fireEvent.change(input, { target: { value: input.maxLength >= 0 ? text.slice(0, input.maxLength) : text } });
}

/** A name of `n` emoji: `n` characters as the shop counts them, twice as many UTF-16 units. */
export const emojiName = (n: number) => "😀".repeat(n);

/** The words that say why a control is as it is (its aria-describedby). */
export function description(element: HTMLElement): string | null | undefined {
  return document.getElementById(element.getAttribute("aria-describedby") ?? "")?.textContent;
}

/** What `field` is said to be wrong with: null when it is not marked invalid, else the words it is described by. */
export function fieldProblem(field: HTMLElement): string | null | undefined {
  return field.getAttribute("aria-invalid") === "true" ? description(field) : null;
}
