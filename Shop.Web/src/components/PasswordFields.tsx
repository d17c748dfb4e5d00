import type { InputHTMLAttributes } from "react";
import { TextField } from "./ui";

// Users' rule for a password (PasswordService: 8 to 128 characters), said and checked the same way wherever one is chosen.
// Users counts a password's UTF-16 units (string.Length), as String.length and maxLength do: so the field keeps its
// native maxLength, which password managers also read when they make one up.
const MIN_LENGTH = 8;
const MAX_LENGTH = 128;

/** Why `password` cannot be a new password, in words; null when it can. */
export function newPasswordProblem(password: string): string | null {
  return password.length < MIN_LENGTH ? `Password must be at least ${MIN_LENGTH} characters.` : null;
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
      maxLength={MAX_LENGTH}
      error={error}
      hint={`At least ${MIN_LENGTH} characters.`}
      {...props}
    />
  );
}
