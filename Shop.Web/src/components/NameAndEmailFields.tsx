import type { ReactNode } from "react";
import { errorMessage, fieldError, isProblem } from "../api/errors";
import { TextField } from "./ui";

/**
 * An account's Name and Email, as at sign-up and on the Account page: Users' length caps, and the shop's refusal of
 * either (`error`: the request's) on its field, an email another account has (409) included. `emailTaken`: what Email
 * says for that 409 instead of the shop's words (null: nothing, once the field no longer holds the refused email).
 */
export function NameAndEmailFields({
  name,
  email,
  onNameChange,
  onEmailChange,
  error,
  emailTaken,
}: {
  name: string;
  email: string;
  onNameChange: (name: string) => void;
  onEmailChange: (email: string) => void;
  error: unknown;
  emailTaken?: ReactNode;
}) {
  const taken = isProblem(error, 409, "Email already registered") ? (emailTaken === undefined ? errorMessage(error) : emailTaken) : undefined;
  return (
    <>
      <TextField
        label="Name"
        name="name"
        autoComplete="name"
        required
        maxLength={100}
        value={name}
        onChange={(e) => onNameChange(e.target.value)}
        error={fieldError(error, "name")}
      />
      <TextField
        label="Email"
        name="email"
        type="email"
        autoComplete="email"
        required
        maxLength={254}
        value={email}
        onChange={(e) => onEmailChange(e.target.value)}
        error={fieldError(error, "email") ?? taken}
      />
    </>
  );
}
