import { useId, type FormEvent, type ReactNode } from "react";
import { Link } from "react-router";
import { Button, Card, focusFieldTooLong, usePageTitle } from "./ui";

/**
 * The sign-in and registration page: heading, a form whose submit button is busy while the request runs and held
 * while the shop has said to wait (`holdReason`), a submit meanwhile ignored, and a link to the other page.
 */
export function AuthForm({
  title,
  subtitle,
  submitLabel,
  busy,
  holdReason,
  onSubmit,
  other,
  children,
}: {
  title: string;
  subtitle: string;
  submitLabel: string;
  busy: boolean;
  /** Why the submit is held (a 429's Retry-After), or nothing: the button's description, not said again as it comes. */
  holdReason?: string;
  /** `form`: the form submitted, where its own checks mark a field (useFieldChecks). */
  onSubmit: (form: HTMLFormElement) => void;
  /** The link to the other page; `state` carries where to return afterwards (a shopper sent here from checkout). */
  other: { prompt: string; to: string; label: string; state?: unknown };
  children: ReactNode;
}) {
  usePageTitle(title);
  const reasonId = useId();
  const held = busy || Boolean(holdReason);

  function submit(e: FormEvent) {
    e.preventDefault();
    // Enter in a field submits without the button: held is checked here, not only on the button. A field past its cap
    // says so itself: it takes focus instead.
    const form = e.currentTarget as HTMLFormElement;
    if (!held && !focusFieldTooLong(form)) onSubmit(form);
  }

  return (
    <div className="mx-auto w-full max-w-sm py-6 sm:py-12">
      <h1 className="text-2xl font-semibold tracking-tight text-stone-900">{title}</h1>
      <p className="mt-1 text-sm text-stone-500">{subtitle}</p>
      <Card className="mt-6 p-6">
        <form onSubmit={submit} className="space-y-4" noValidate>
          {children}
          {/* Focusable while held: a disabled button would drop a keyboard user's focus to the page. */}
          <Button
            type="submit"
            className="w-full"
            disabled={held}
            focusableWhenDisabled
            busy={busy}
            aria-describedby={holdReason ? reasonId : undefined}
          >
            {submitLabel}
          </Button>
          {/* Not a live region: the alert above has said it. */}
          {holdReason ? (
            <p id={reasonId} className="text-sm text-stone-600">
              {holdReason}
            </p>
          ) : null}
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
