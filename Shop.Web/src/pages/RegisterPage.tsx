import { useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { Link, Navigate } from "react-router";
import { api } from "../api/client";
import { fieldError } from "../api/errors";
import { useAuth } from "../auth/AuthContext";
import { Button, Card, ErrorAlert, TextField } from "../components/ui";
import { AuthShell } from "../components/AuthShell";

export default function RegisterPage() {
  const { user, signIn } = useAuth();
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [localError, setLocalError] = useState<string | null>(null);
  const register = useMutation({ mutationFn: api.register, onSuccess: signIn });

  if (user) return <Navigate to="/catalog" replace />;

  function submit(e: FormEvent) {
    e.preventDefault();
    if (register.isPending) return;
    if (!name.trim() || !email.trim()) {
      setLocalError("Please enter your name and email.");
      return;
    }
    if (password.length < 8) {
      setLocalError("Password must be at least 8 characters.");
      return;
    }
    setLocalError(null);
    register.mutate({ name: name.trim(), email: email.trim(), password });
  }

  return (
    <AuthShell>
      <h1 className="text-2xl font-semibold tracking-tight text-stone-900">Create account</h1>
      <p className="mt-1 text-sm text-stone-500">It takes a few seconds. You can start shopping right after.</p>
      <Card className="mt-6 p-6">
        <form onSubmit={submit} className="space-y-4" noValidate>
          {localError ? (
            <div role="alert" className="rounded-lg border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800">
              {localError}
            </div>
          ) : (
            <ErrorAlert error={register.error} />
          )}
          <TextField
            label="Name"
            name="name"
            autoComplete="name"
            required
            maxLength={100}
            value={name}
            onChange={(e) => setName(e.target.value)}
            error={fieldError(register.error, "name")}
          />
          <TextField
            label="Email"
            name="email"
            type="email"
            autoComplete="email"
            required
            maxLength={254}
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            error={fieldError(register.error, "email")}
          />
          <TextField
            label="Password"
            name="password"
            type="password"
            autoComplete="new-password"
            required
            minLength={8}
            maxLength={128}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            error={fieldError(register.error, "password")}
            hint="At least 8 characters."
          />
          <Button type="submit" className="w-full" disabled={register.isPending} busy={register.isPending}>
            Create account
          </Button>
        </form>
      </Card>
      <p className="mt-6 text-center text-sm text-stone-500">
        Already have an account?{" "}
        <Link to="/signin" className="font-medium text-indigo-700 hover:underline">
          Sign in
        </Link>
      </p>
    </AuthShell>
  );
}
