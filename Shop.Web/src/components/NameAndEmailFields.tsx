import type { ReactNode } from "react";
import { errorMessage, fieldError, isProblem } from "../api/errors";
import type { FieldProblems } from "../lib/useFieldChecks";
import { TextField } from "./ui";

// Users' caps (UserValidation.NameMax and EmailMax), in characters as Users counts them: TextField's maxCharacters.
const NAME_MAX = 100;
const EMAIL_MAX = 254;

/**
 * An account's Name and Email, as at sign-up and on the Account page: Users' length caps, and the shop's refusal of
 * either (`error`: the request's) on its field, an email another account has (409) included. That 409 marks Email
 * only while it still holds `sentEmail`, the email the refused request sent: typed back or changed, it is no longer
 * the one refused. `emailTaken`: what Email says then instead of the shop's words. `problems`: what the form's own checks
 * found (useFieldChecks), said on the field before the shop's.
 */
export function NameAndEmailFields({
  name,
  email,
  onNameChange,
  onEmailChange,
  error,
  problems = {},
  sentEmail,
  emailTaken,
}: {
  name: string;
  email: string;
  onNameChange: (name: string) => void;
  onEmailChange: (email: string) => void;
  error: unknown;
  problems?: FieldProblems<"name" | "email">;
  sentEmail: string | undefined;
  emailTaken?: ReactNode;
}) {
  const taken =
    isProblem(error, 409, "Email already registered") && sentEmail === email.trim() ? (emailTaken ?? errorMessage(error)) : undefined;
  return (
    <>
      <TextField
        label="Name"
        name="name"
        autoComplete="name"
        required
        maxCharacters={NAME_MAX}
        value={name}
        onChange={(e) => onNameChange(e.target.value)}
        error={problems.name ?? fieldError(error, "name")}
      />
      <TextField
        label="Email"
        name="email"
        type="email"
        autoComplete="email"
        required
        maxCharacters={EMAIL_MAX}
        value={email}
        onChange={(e) => onEmailChange(e.target.value)}
        error={problems.email ?? fieldError(error, "email") ?? taken}
      />
    </>
  );
}
