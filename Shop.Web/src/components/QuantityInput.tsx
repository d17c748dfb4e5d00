import { useEffect, useState } from "react";
import { MAX_LINE_QTY } from "../lib/cart";

/** Quantity editor: − / + buttons and a number field committed on blur or Enter. */
export function QuantityInput({
  value,
  max,
  label,
  onChange,
}: {
  value: number;
  max?: number;
  label: string;
  onChange: (qty: number) => void;
}) {
  const [draft, setDraft] = useState(String(value));
  useEffect(() => setDraft(String(value)), [value]);
  const upper = Math.min(MAX_LINE_QTY, max && max > 0 ? max : MAX_LINE_QTY);

  function commit() {
    const n = Number.parseInt(draft, 10);
    if (Number.isNaN(n)) setDraft(String(value));
    else onChange(n);
  }

  const btn =
    "flex size-8 items-center justify-center text-stone-600 hover:bg-stone-100 disabled:cursor-not-allowed disabled:text-stone-300";
  return (
    <div className="inline-flex items-center rounded-lg bg-white ring-1 ring-stone-300 ring-inset">
      <button type="button" className={`${btn} rounded-l-lg`} aria-label={`Decrease ${label}`} disabled={value <= 1} onClick={() => onChange(value - 1)}>
        −
      </button>
      <input
        type="number"
        inputMode="numeric"
        min={1}
        max={upper}
        aria-label={label}
        value={draft}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === "Enter") commit();
        }}
        className="w-12 border-0 bg-transparent p-0 text-center text-sm text-stone-900 focus:ring-0 [appearance:textfield] [&::-webkit-inner-spin-button]:appearance-none"
      />
      <button type="button" className={`${btn} rounded-r-lg`} aria-label={`Increase ${label}`} disabled={value >= upper} onClick={() => onChange(value + 1)}>
        +
      </button>
    </div>
  );
}
