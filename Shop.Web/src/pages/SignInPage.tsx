import { useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { Link, Navigate, useLocation } from "react-router";
import { api } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { Alert, Button, Card, ErrorAlert, TextField } from "../components/ui";
import { AuthShell } from "../components/AuthShell";

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

  function submit(e: FormEvent) {
    e.preventDefault();
    if (login.isPending) return;
    login.mutate({ email: email.trim(), password });
  }

  return (
    <AuthShell>
      <h1 className="text-2xl font-semibold tracking-tight text-stone-900">Sign in</h1>
      <p className="mt-1 text-sm text-stone-500">Welcome back. Sign in to shop and track your orders.</p>
      <Card className="mt-6 p-6">
        <form onSubmit={submit} className="space-y-4" noValidate>
          {state.expired && !login.error ? (
            <Alert tone="info">Your session has ended. Please sign in again.</Alert>
          ) : null}
          <ErrorAlert error={login.error} />
          <TextField
            label="Email"
            name="email"
            type="email"
            autoComplete="email"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
          <TextField
            label="Password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          <Button type="submit" className="w-full" disabled={login.isPending} busy={login.isPending}>
            Sign in
          </Button>
        </form>
      </Card>
      <p className="mt-6 text-center text-sm text-stone-500">
        New here?{" "}
        <Link to="/register" className="font-medium text-indigo-700 hover:underline">
          Create an account
        </Link>
      </p>
    </AuthShell>
  );
}

/** Only same-app paths are accepted as a return target. */
function safeFrom(from: string | undefined): string {
  if (!from || !from.startsWith("/") || from.startsWith("//") || from.startsWith("/signin") || from.startsWith("/register")) {
    return "/catalog";
  }
  return from;
}
