import type { InputHTMLAttributes } from "react";

declare module "react" {
  // Apple's password rules for a generated password (not in React's types; React passes it to the DOM as written).
  interface InputHTMLAttributes<T> {
    passwordrules?: string;
  }
}
import { countAs, type Counting } from "../lib/characters";
import { TextField } from "./ui";

// Users' rule for a password (PasswordService: 8 to 128 characters), said and checked the same way wherever one is chosen.
// Users counts a password's characters (code points: an emoji is one, NIST SP 800-63B), as typed: TextField's
// maxCharacters, counting "charactersAsTyped". Not maxLength, which counts UTF-16 units (an emoji is two) and cuts a
// paste (or a password manager's fill, some ignore it) without a word, and the account would get a password other than
// the one saved. minLength counts UTF-16 units too, so it lets four emoji by: newPasswordProblem is the check. Password
// managers that make one up read passwordrules instead (Safari, 1Password): a hint only, it cuts nothing; the others
// ignore it.
const MIN_LENGTH = 8;
const MAX_LENGTH = 128;
// One counting for the field's limit and newPasswordProblem's, so the two cannot drift apart.
const COUNTING: Counting = "charactersAsTyped";

/** Why `password` cannot be a new password, in words; null when it can. */
export function newPasswordProblem(password: string): string | null {
  return countAs(password, COUNTING) < MIN_LENGTH ? `Password must be at least ${MIN_LENGTH} characters.` : null;
}

/** A field for the password one has now (to sign in, or to confirm a change): a password manager fills it in. */
export function CurrentPasswordField({ label, ...props }: Omit<InputHTMLAttributes<HTMLInputElement>, "type"> & { label: string; error?: string; hint?: string }) {
  return <TextField label={label} type="password" autoComplete="current-password" required {...props} />;
}

/** A field for choosing a password (at sign-up, on the Account page): its rule as its hint, and a password manager's offer of a new one. */
export function NewPasswordField({
  label,
  error,
  ...props
}: Omit<InputHTMLAttributes<HTMLInputElement>, "type"> & { label: string; error?: string }) {
  return (
    <TextField
      label={label}
      type="password"
      autoComplete="new-password"
      required
      minLength={MIN_LENGTH}
      maxCharacters={MAX_LENGTH}
      counting={COUNTING}
      passwordrules={`minlength: ${MIN_LENGTH}; maxlength: ${MAX_LENGTH};`}
      error={error}
      hint={`At least ${MIN_LENGTH} characters.`}
      {...props}
    />
  );
}
