import { useEffect, useState } from "react";
import { Navigate, useLocation } from "react-router";
import { api } from "../api/client";
import { forgetSessionEnd } from "../api/session";
import { useAuth } from "../auth/AuthContext";
import { Alert, ErrorAlert, TextField } from "../components/ui";
import { useAnnounce } from "../components/Announcer";
import { AuthForm } from "../components/AuthForm";
import { CurrentPasswordField } from "../components/PasswordFields";
import { safeReturnPath, type ReturnState } from "../lib/returnPath";
import { requiredProblem, useFieldChecks } from "../lib/useFieldChecks";
import { accountScope } from "../lib/useRetryAfterHold";
import { useSubmitMutation } from "../lib/useSubmitMutation";

const SESSION_ENDED = "Your session has ended. Please sign in again.";
const SIGNED_OUT_EVERYWHERE = "You were signed out everywhere, on this device too. Sign in again to go on shopping.";

export default function SignInPage() {
  const { user, signIn } = useAuth();
  const location = useLocation();
  const state = (location.state ?? {}) as ReturnState;
  const [email, setEmail] = useState(state.email ?? "");
  const [password, setPassword] = useState("");
  // Five wrong passwords lock the email for 15 minutes (429): each press for it before then would only be refused
  // again, and the request is held till then (useSubmitMutation), for that email only; the gateway's 429, for any.
  const login = useSubmitMutation({
    budget: "sign-in",
    account: { current: accountScope(email), of: (sent) => accountScope(sent.email) },
    mutationFn: api.login,
    onSuccess: signIn,
  });
  const checks = useFieldChecks<"email" | "password">();
  const announce = useAnnounce();
  // Said by the app's live region, on the page before this one came: this page's own words come with it.
  const ended = state.signedOutEverywhere ? SIGNED_OUT_EVERYWHERE : state.expired ? SESSION_ENDED : null;
  useEffect(() => {
    if (ended) announce(ended);
  }, [ended, announce]);
  useEffect(forgetSessionEnd, []);

  if (user) return <Navigate to={safeReturnPath(state.from)} replace />;

  return (
    <AuthForm
      title="Sign in"
      subtitle="Welcome back. Sign in to shop and track your orders."
      submitLabel="Sign in"
      busy={login.isPending}
      holdReason={login.holdReason ?? undefined}
      onSubmit={(form) => {
        const found = { email: requiredProblem(email.trim(), "Enter your email."), password: requiredProblem(password, "Enter your password.") };
        if (checks.check(found, form)) login.submit({ email: email.trim(), password });
      }}
      other={{ prompt: "New here?", to: "/register", label: "Create an account", state: { from: state.from } satisfies ReturnState }}
    >
      {ended && !login.error ? (
        <Alert tone="info" live={false}>
          {ended}
        </Alert>
      ) : null}
      <ErrorAlert error={login.error} />
      <TextField label="Email" name="email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} error={checks.error("email", login.error)} />
      <CurrentPasswordField
        label="Password"
        name="password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        error={checks.error("password", login.error)}
      />
    </AuthForm>
  );
}
