import { useState } from "react";
import { Link, Navigate, useLocation } from "react-router";
import { api } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { ErrorAlert } from "../components/ui";
import { AuthForm } from "../components/AuthForm";
import { NameAndEmailFields } from "../components/NameAndEmailFields";
import { NewPasswordField, newPasswordProblem } from "../components/PasswordFields";
import { requiredProblem, useFieldChecks } from "../lib/useFieldChecks";
import { safeReturnPath, type ReturnState } from "../lib/returnPath";
import { useSubmitMutation } from "../lib/useSubmitMutation";

export default function RegisterPage() {
  const { user, signIn } = useAuth();
  // Where the visitor was going when sent to sign in (checkout, say), kept through "Create an account".
  const from = ((useLocation().state ?? {}) as ReturnState).from;
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const checks = useFieldChecks<"name" | "email" | "password">();
  // The gateway limits registrations (429): as at sign in, Create account waits out the Retry-After (useSubmitMutation).
  const register = useSubmitMutation({ budget: "register", mutationFn: api.register, onSuccess: signIn });

  if (user) return <Navigate to={safeReturnPath(from)} replace />;

  // A 409 (registration's one conflict: the email has an account) offers the way on: Sign in, with the email, keeping
  // where the shopper was going (checkout, say).
  const emailTakenNote = (
    <>
      This email already has an account.{" "}
      <Link to="/signin" state={{ from, email: email.trim() } satisfies ReturnState} className="font-medium text-indigo-700 underline">
        Sign in with this email
      </Link>
    </>
  );

  function submit(form: HTMLFormElement) {
    const found = {
      name: requiredProblem(name.trim(), "Enter your name."),
      email: requiredProblem(email.trim(), "Enter your email."),
      password: newPasswordProblem(password),
    };
    if (checks.check(found, form)) register.submit({ name: name.trim(), email: email.trim(), password });
  }

  return (
    <AuthForm
      title="Create account"
      subtitle="It takes a few seconds. You can start shopping right after."
      submitLabel="Create account"
      busy={register.isPending}
      holdReason={register.holdReason ?? undefined}
      onSubmit={submit}
      other={{ prompt: "Already have an account?", to: "/signin", label: "Sign in", state: { from } satisfies ReturnState }}
    >
      <ErrorAlert error={register.error} />
      <NameAndEmailFields
        name={name}
        email={email}
        onNameChange={setName}
        onEmailChange={setEmail}
        error={register.error}
        problems={checks.problems}
        sentEmail={register.variables?.email}
        emailTaken={emailTakenNote}
      />
      <NewPasswordField
        label="Password"
        name="password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        error={checks.error("password", register.error)}
      />
    </AuthForm>
  );
}
