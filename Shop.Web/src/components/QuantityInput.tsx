import { useId, useState } from "react";
import { MAX_LINE_QTY, MAX_UNITS_PER_ORDER, clampQty } from "../lib/cart";
import { wholeNumber } from "../lib/numbers";

/** Quantity editor: − / + buttons and a number field committed on blur or Enter. */
export function QuantityInput({
  value,
  max,
  room = MAX_LINE_QTY,
  label,
  onChange,
}: {
  value: number;
  max?: number;
  /** What the order's unit cap leaves for this line with the rest of the cart (roomFor). */
  room?: number;
  label: string;
  onChange: (qty: number) => void;
}) {
  const [draft, setDraft] = useState(String(value));
  // Whether the last commit asked for more than the cart may hold. The note is worded from today's limit each render,
  // so a stock figure refreshed since (or a line no longer at its limit) never leaves an outdated "Only 3 in stock.".
  const [capped, setCapped] = useState(false);
  const noteId = useId();
  // A quantity changed from outside (the − / + buttons, another tab) replaces the draft. Adjusted while rendering,
  // not in an effect: an effect runs after the first render too, and its stale "3" would overwrite what a shopper
  // typed in between (the cause of a flaky cart test on a loaded machine).
  const [shown, setShown] = useState(value);
  if (shown !== value) {
    setShown(value);
    setDraft(String(value));
  }
  const inStock = max && max > 0 ? max : MAX_LINE_QTY;
  const upper = Math.min(MAX_LINE_QTY, inStock, room);
  // The cart does not hold 0 as a limit (clampQty), but a stock read as 0 (at checkout) still has to be said.
  const soldOut = max === 0;
  // The note also stands without a capped commit when the line holds more than the limit: the stock fell after the
  // line was filled (checkout reads it again), and the shopper must see why "+" is off and the order is refused.
  const over = value > upper || (capped && value === upper);
  const note = soldOut
    ? "Out of stock."
    : !over
      ? ""
      : inStock === upper && upper < MAX_LINE_QTY
        ? `Only ${upper} in stock.`
        : upper < MAX_LINE_QTY
          ? `At most ${MAX_UNITS_PER_ORDER} units per order.`
          : `At most ${MAX_LINE_QTY} per order.`;

  function commit() {
    const n = wholeNumber(draft);
    if (n === null) {
      setDraft(String(value));
      return;
    }
    if (n <= 0) {
      onChange(n); // removes the line
      return;
    }
    // The cart keeps at most `upper` (the cart's own rule). Show what it holds, not what was typed: when that is
    // the amount it already had, `value` does not change and the typed number would stay. And say why.
    const held = clampQty(n, max, room);
    setDraft(String(held));
    // (Editing the field clears the note; committing the held amount again, as a blur after Enter does, keeps it.)
    if (held < n) setCapped(true);
    onChange(held);
  }

  function step(qty: number) {
    setCapped(false);
    onChange(qty);
  }

  // − at 1 and + at the limit are unavailable but keep focus (aria-disabled, a press ignored): a natively disabled button
  // drops a keyboard user's focus to the page the moment their press reaches the limit.
  const fewerOff = value <= 1;
  const moreOff = value >= upper || soldOut;
  const btn =
    "flex size-8 items-center justify-center text-stone-600 hover:bg-stone-100 aria-disabled:cursor-not-allowed aria-disabled:text-stone-300 aria-disabled:hover:bg-transparent";
  return (
    <div>
      <div className="inline-flex items-center rounded-lg bg-white ring-1 ring-stone-300 ring-inset">
        <button type="button" className={`${btn} rounded-l-lg`} aria-label={`Decrease ${label}`} aria-disabled={fewerOff || undefined} onClick={() => fewerOff || step(value - 1)}>
          −
        </button>
        <input
          type="number"
          inputMode="numeric"
          min={1}
          max={Math.max(1, upper)}
          aria-label={label}
          aria-describedby={note ? noteId : undefined}
          value={draft}
          onChange={(e) => {
            setDraft(e.target.value);
            setCapped(false);
          }}
          onBlur={commit}
          onKeyDown={(e) => {
            if (e.key === "Enter") commit();
          }}
          className="w-12 border-0 bg-transparent p-0 text-center text-sm text-stone-900 focus:ring-0 [appearance:textfield] [&::-webkit-inner-spin-button]:appearance-none"
        />
        <button type="button" className={`${btn} rounded-r-lg`} aria-label={`Increase ${label}`} aria-disabled={moreOff || undefined} onClick={() => moreOff || step(value + 1)}>
          +
        </button>
      </div>
      {/* Always there (hidden while empty), so a screen reader announces the note when it appears. */}
      <p id={noteId} aria-live="polite" className={note ? "mt-1 text-xs text-amber-800" : "sr-only"}>
        {note}
      </p>
    </div>
  );
}
