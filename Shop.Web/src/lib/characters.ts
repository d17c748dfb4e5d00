/**
 * A text's length as the shop's API counts it (ValidationErrors.Characters: Unicode characters, as PostgreSQL's
 * char_length and varchar(n) count them): an emoji is one, where String.length and an input's maxLength count its two
 * UTF-16 units. A lone surrogate is one too, as .NET's EnumerateRunes counts it.
 */
export function characters(text: string): number {
  return [...text].length;
}

/**
 * How the API counts a field's length. "characters": of the text trimmed, in characters (ValidationErrors.RequireString:
 * a name, an email; a sku, ASCII only by Inventory's pattern, counts the same either way). "charactersAsTyped": of the
 * text as typed, in characters (Users' check of a password, which is not trimmed: its spaces are part of it).
 * "utf16Trimmed": of the text trimmed, in UTF-16 units (Inventory's check of a search's q: SearchField).
 */
export type Counting = "characters" | "charactersAsTyped" | "utf16Trimmed";

/** `text`'s length as the API counts it for a field counted so. */
export function countAs(text: string, counting: Counting): number {
  return counting === "charactersAsTyped" ? characters(text) : counting === "utf16Trimmed" ? text.trim().length : characters(text.trim());
}

/**
 * What to do about `text` holding more than `max` characters, counted as the API counts it (`counting`), in words for
 * its field; null when it fits.
 */
export function tooLongProblem(text: string, max: number, counting: Counting = "characters"): string | null {
  const count = countAs(text, counting);
  return count > max ? `Shorten this to ${max} characters: it has ${count}.` : null;
}

/**
 * What a screen reader is told once, as a field goes past `max`: without the count, which changes at each keystroke
 * and would have the words said again each time (tooLongProblem, with the count, is what stays in sight).
 */
export function tooLongAlert(max: number): string {
  return `Too long: shorten this to ${max} characters.`;
}
