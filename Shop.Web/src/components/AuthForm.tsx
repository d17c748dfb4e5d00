import type { FormEvent, ReactNode } from "react";
import { Link } from "react-router";
import { Button, Card, usePageTitle } from "./ui";

/**
 * The sign-in and registration page: heading, a form whose submit button is busy while the request runs
 * (a second submit meanwhile is ignored), and a link to the other page.
 */
export function AuthForm({
  title,
  subtitle,
  submitLabel,
  busy,
  onSubmit,
  other,
  children,
}: {
  title: string;
  subtitle: string;
  submitLabel: string;
  busy: boolean;
  onSubmit: () => void;
  /** The link to the other page; `state` carries where to return afterwards (a shopper sent here from checkout). */
  other: { prompt: string; to: string; label: string; state?: unknown };
  children: ReactNode;
}) {
  usePageTitle(title);

  function submit(e: FormEvent) {
    e.preventDefault();
    if (!busy) onSubmit();
  }

  return (
    <div className="mx-auto w-full max-w-sm py-6 sm:py-12">
      <h1 className="text-2xl font-semibold tracking-tight text-stone-900">{title}</h1>
      <p className="mt-1 text-sm text-stone-500">{subtitle}</p>
      <Card className="mt-6 p-6">
        <form onSubmit={submit} className="space-y-4" noValidate>
          {children}
          <Button type="submit" className="w-full" disabled={busy} busy={busy}>
            {submitLabel}
          </Button>
        </form>
      </Card>
      <p className="mt-6 text-center text-sm text-stone-500">
        {other.prompt}{" "}
        <Link to={other.to} state={other.state} className="font-medium text-indigo-700 hover:underline">
          {other.label}
        </Link>
      </p>
    </div>
  );
}
