/**
 * The whole number a number field holds, or null when it holds none (empty, a fraction, past what a double counts
 * exactly). A number field takes what HTML calls a valid floating-point number, exponent included: "1e3" is a
 * thousand there, which Number.parseInt read as 1.
 */
export function wholeNumber(typed: string): number | null {
  if (typed.trim() === "") return null;
  const n = Number(typed);
  return Number.isSafeInteger(n) ? n : null;
}
