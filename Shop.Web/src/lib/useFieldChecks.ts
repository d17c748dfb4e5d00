import { useCallback, useLayoutEffect, useState } from "react";
import { fieldError } from "../api/errors";

/** What a form found wrong with its fields before sending, by field name: each field's words. */
export type FieldProblems<F extends string> = Partial<Record<F, string>>;

/** The words for a field left empty, or null when filled in. `value`: as it would be sent (trimmed where the form trims it). */
export function requiredProblem(value: string, words: string): string | null {
  return value === "" ? words : null;
}

/**
 * A form's own checks before it sends (a field left empty, a password too short): a request the shop could only refuse
 * is not sent, and each problem stands on its field as the shop's validation errors do (TextField's `error`:
 * aria-invalid, described by its words). `check(found, form)` at a submit takes every field's problem (or null): true
 * when there is none; otherwise the first field marked invalid takes focus, where a screen reader reads it with its
 * words (in a layout effect, once it is marked). What is shown is the last submit's: a field mended clears at the next.
 * `error(field, sent)`: the words for a field, the form's own first, else the shop's refusal of `sent` (its `errors`).
 */
export function useFieldChecks<F extends string>() {
  const [found, setFound] = useState<{ problems: FieldProblems<F>; form: HTMLFormElement | null }>({ problems: {}, form: null });
  useLayoutEffect(() => {
    found.form?.querySelector<HTMLElement>("[aria-invalid='true']")?.focus();
  }, [found]);
  const check = useCallback((checks: Record<F, string | null>, form: HTMLFormElement) => {
    const problems = Object.fromEntries(Object.entries(checks).filter(([, words]) => words)) as FieldProblems<F>;
    const passed = Object.keys(problems).length === 0;
    setFound({ problems, form: passed ? null : form });
    return passed;
  }, []);
  const { problems } = found;
  const error = useCallback((field: F, sent: unknown) => problems[field] ?? fieldError(sent, field), [problems]);
  return { problems, check, error };
}
