import { useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { Navigate, useLocation } from "react-router";
import { api } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { Alert, ErrorAlert, TextField } from "../components/ui";
import { AuthForm } from "../components/AuthForm";

interface FromState {
  from?: string;
  expired?: boolean;
}

export default function SignInPage() {
  const { user, signIn } = useAuth();
  const location = useLocation();
  const state = (location.state ?? {}) as FromState;
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const login = useMutation({ mutationFn: api.login, onSuccess: signIn });

  if (user) return <Navigate to={safeFrom(state.from)} replace />;

  return (
    <AuthForm
      title="Sign in"
      subtitle="Welcome back. Sign in to shop and track your orders."
      submitLabel="Sign in"
      busy={login.isPending}
      onSubmit={() => login.mutate({ email: email.trim(), password })}
      other={{ prompt: "New here?", to: "/register", label: "Create an account" }}
    >
      {state.expired && !login.error ? <Alert tone="info">Your session has ended. Please sign in again.</Alert> : null}
      <ErrorAlert error={login.error} />
      <TextField label="Email" name="email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
      <TextField
        label="Password"
        name="password"
        type="password"
        autoComplete="current-password"
        required
        value={password}
        onChange={(e) => setPassword(e.target.value)}
      />
    </AuthForm>
  );
}

/** Only same-app paths are accepted as a return target. */
function safeFrom(from: string | undefined): string {
  if (!from || !from.startsWith("/") || from.startsWith("//") || from.startsWith("/signin") || from.startsWith("/register")) {
    return "/catalog";
  }
  return from;
}
