import type { InputHTMLAttributes } from "react";
import { countAs } from "../lib/characters";
import { TextField } from "./ui";

/**
 * Inventory's cap on a search (ItemValidation.SearchMax), counted as Inventory counts its q: in UTF-16 units of the
 * text trimmed (the pages send it trimmed). A longer q is refused with a 400, so the box says so and the page goes on
 * listing the last search that fits.
 */
const SEARCH_MAX = 100;

/** Whether `typed` is a search Inventory takes: the page lists it only then. */
export function searchFits(typed: string): boolean {
  return countAs(typed, "utf16Trimmed") <= SEARCH_MAX;
}

/** The search box of the catalogue and Admin Inventory: past Inventory's cap it says how far to shorten it (TextField). */
export function SearchField({
  value,
  onChange,
  className,
}: {
  value: string;
  onChange: NonNullable<InputHTMLAttributes<HTMLInputElement>["onChange"]>;
  className?: string;
}) {
  return (
    <TextField
      label="Search"
      hideLabel
      type="search"
      placeholder="Search by name or SKU"
      className={className}
      maxCharacters={SEARCH_MAX}
      counting="utf16Trimmed"
      value={value}
      onChange={onChange}
    />
  );
}
