/**
 * A text's length as the shop's API counts it (ValidationErrors.Characters: Unicode characters, as PostgreSQL's
 * char_length and varchar(n) count them): an emoji is one, where String.length and an input's maxLength count its two
 * UTF-16 units. A lone surrogate is one too, as .NET's EnumerateRunes counts it.
 */
export function characters(text: string): number {
  return [...text].length;
}

/**
 * What to do about `text` holding more than `max` characters, of the text as it is sent (trimmed, as the API also
 * counts it), in words for its field; null when it fits.
 */
export function tooLongProblem(text: string, max: number): string | null {
  const count = characters(text.trim());
  return count > max ? `Shorten this to ${max} characters: it has ${count}.` : null;
}

/**
 * What a screen reader is told once, as a field goes past `max`: without the count, which changes at each keystroke
 * and would have the words said again each time (tooLongProblem, with the count, is what stays in sight).
 */
export function tooLongAlert(max: number): string {
  return `Too long: shorten this to ${max} characters.`;
}
