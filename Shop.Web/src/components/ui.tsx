import {
  useCallback,
  useEffect,
  useId,
  useLayoutEffect,
  useRef,
  useState,
  type ButtonHTMLAttributes,
  type ComponentProps,
  type InputHTMLAttributes,
  type ReactNode,
  type Ref,
  type RefObject,
  type SelectHTMLAttributes,
} from "react";
import type { OrderStatus } from "../api/types";
import { capitalize } from "../lib/format";
import { ApiError, errorMessage } from "../api/errors";
import { focusStillIn, useSwap, useTakeFocus } from "../lib/focus";
import { tooLongAlert, tooLongProblem, type Counting } from "../lib/characters";

export function cx(...classes: (string | false | null | undefined)[]): string {
  return classes.filter(Boolean).join(" ");
}

type Variant = "primary" | "secondary" | "danger" | "ghost";
const variants: Record<Variant, string> = {
  primary:
    "bg-indigo-600 text-white shadow-sm hover:bg-indigo-500 focus-visible:outline-indigo-600 disabled:bg-indigo-300 aria-disabled:bg-indigo-300",
  secondary:
    "bg-white text-stone-800 ring-1 ring-inset ring-stone-300 shadow-sm hover:bg-stone-50 disabled:text-stone-400 aria-disabled:text-stone-400",
  danger:
    "bg-white text-red-700 ring-1 ring-inset ring-red-200 shadow-sm hover:bg-red-50 disabled:text-red-300 aria-disabled:text-red-300",
  ghost: "text-stone-700 hover:bg-stone-100 disabled:text-stone-400 aria-disabled:text-stone-400",
};

/**
 * `focusableWhenDisabled`: for a button that can become unavailable while it has focus (Next on reaching the last
 * page, a confirmation while its request runs). A disabled button loses focus in browsers, dropping a keyboard user
 * to <body>; this one stays focusable and says it is unavailable (aria-disabled), and a press does nothing.
 */
export function Button({
  variant = "primary",
  size = "md",
  className,
  type = "button",
  busy = false,
  disabled,
  focusableWhenDisabled = false,
  onClick,
  children,
  ...props
}: ButtonHTMLAttributes<HTMLButtonElement> & {
  variant?: Variant;
  size?: "sm" | "md";
  busy?: boolean;
  focusableWhenDisabled?: boolean;
  ref?: Ref<HTMLButtonElement>;
}) {
  const unavailable = Boolean(disabled) && focusableWhenDisabled;
  // The accessible name stays the same while busy (tests and screen readers find it by name).
  return (
    <button
      type={type}
      aria-busy={busy || undefined}
      disabled={unavailable ? undefined : disabled}
      aria-disabled={unavailable || undefined}
      // preventDefault: a submit button must not submit either.
      onClick={unavailable ? (e) => e.preventDefault() : onClick}
      className={cx(
        "inline-flex items-center justify-center gap-2 rounded-lg font-medium transition-colors",
        "focus-visible:outline-2 focus-visible:outline-offset-2 disabled:cursor-not-allowed aria-disabled:cursor-not-allowed",
        size === "sm" ? "px-2.5 py-1.5 text-sm" : "px-4 py-2 text-sm",
        variants[variant],
        className,
      )}
      {...props}
    >
      {busy ? (
        <span className="size-3.5 animate-spin rounded-full border-2 border-current border-r-transparent" aria-hidden="true" />
      ) : null}
      {children}
    </button>
  );
}

/** What a button shows of the request it sends: useSubmitMutation's result. */
export interface Sending {
  isPending: boolean;
  /** The shop said to wait (a Retry-After) and the time has not passed. */
  held: boolean;
  /** While held, what the button shows and is described by (useSubmitMutation's, the same for every held button). */
  holdReason?: string | null;
  error: unknown;
}

/**
 * The button that sends `request`: busy while it is on its way, held while the shop has said to wait (a 429's
 * Retry-After), unavailable both times but focusable (a disabled button would drop a keyboard user's focus to the
 * page). Held, it shows when it can be sent again, and those words are its description: the same for every held
 * button (sign-in's and checkout's too), and not a live region, as the refusal's alert has said it once. `busy`: busy after the request too (a deleted row until the re-read takes it away); `disabled`: unavailable
 * for a reason of the page's own.
 */
export function SendButton({
  request,
  busy = false,
  disabled,
  ...props
}: Omit<ComponentProps<typeof Button>, "focusableWhenDisabled"> & { request: Sending }) {
  const reasonId = useId();
  const working = request.isPending || busy;
  // The words come first: the button stays its container's last child (space-y gives every other child a margin). A
  // flex row holding them must wrap (flex-wrap): they are about as wide as a 360 px phone's content, and a row that
  // does not wrap squeezes them into a column of single words beside the button (or pushes it past the edge).
  return (
    <>
      {request.held ? (
        <span id={reasonId} className="text-sm text-stone-600">
          {request.holdReason ?? errorMessage(request.error)}
        </span>
      ) : null}
      <Button
        {...props}
        disabled={working || request.held || disabled}
        focusableWhenDisabled
        busy={working}
        aria-describedby={request.held ? reasonId : props["aria-describedby"]}
      />
    </>
  );
}

const inputBase =
  "block w-full border-0 bg-white text-stone-900 shadow-sm ring-1 ring-inset ring-stone-300 placeholder:text-stone-500 focus:ring-2 focus:ring-inset focus:ring-indigo-600 disabled:bg-stone-100";
const inputClass = cx(inputBase, "rounded-lg px-3 py-2 sm:text-sm");

/**
 * A labelled input with its error or hint below it. `maxCharacters`: the API's cap on the field, in characters as the
 * API counts them (lib/characters): not maxLength, which counts UTF-16 units (an emoji is two, so a name of emoji was
 * stopped at half the cap) and cuts a paste without a word. Past the cap the field shows how far to shorten it (its
 * description), says it is too long once as it goes over (a polite live region there from the start, whose words do
 * not change with the count, so a keystroke past the cap is not answered again), and holds that as its custom
 * validity: a form the browser validates is not sent, and the others ask focusFieldTooLong before sending. `counting`:
 * how the API counts this field (characters of the trimmed text unless said). `dense`: the
 * smaller input of a table row's editor.
 */
export function TextField({
  label,
  error,
  hint,
  hideLabel,
  maxCharacters,
  counting,
  dense = false,
  className,
  id,
  ref,
  ...props
}: InputHTMLAttributes<HTMLInputElement> & {
  label: string;
  error?: ReactNode;
  hint?: string;
  hideLabel?: boolean;
  maxCharacters?: number;
  counting?: Counting;
  dense?: boolean;
  ref?: Ref<HTMLInputElement>;
}) {
  const generated = useId();
  const inputId = id ?? generated;
  const tooLong = maxCharacters !== undefined && typeof props.value === "string" ? tooLongProblem(props.value, maxCharacters, counting) : null;
  const input = useRef<HTMLInputElement | null>(null);
  useLayoutEffect(() => input.current?.setCustomValidity(tooLong ?? ""), [tooLong]);
  const setInput = useCallback(
    (element: HTMLInputElement | null) => {
      input.current = element;
      if (typeof ref === "function") ref(element);
      else if (ref) ref.current = element;
    },
    [ref],
  );
  const describedBy = tooLong ? `${inputId}-limit` : error ? `${inputId}-error` : hint ? `${inputId}-hint` : undefined;
  return (
    <div className={className}>
      <label htmlFor={inputId} className={hideLabel ? "sr-only" : "mb-1 block text-sm font-medium text-stone-700"}>
        {label}
      </label>
      <input
        ref={setInput}
        id={inputId}
        aria-invalid={tooLong || error ? true : undefined}
        aria-describedby={describedBy}
        className={cx(dense ? cx(inputBase, "rounded-md px-2 py-1 text-sm") : inputClass, Boolean(tooLong || error) && "ring-red-400")}
        {...props}
      />
      {tooLong ? (
        <p id={`${inputId}-limit`} className="mt-1 text-sm text-red-700">
          {tooLong}
        </p>
      ) : null}
      {/* Said once as the field goes over: these words stay the same while it is over (the count is in sight above). */}
      {maxCharacters !== undefined ? (
        <p aria-live="polite" className="sr-only">
          {tooLong ? tooLongAlert(maxCharacters) : null}
        </p>
      ) : null}
      {tooLong ? null : error ? (
        <p id={`${inputId}-error`} className="mt-1 text-sm text-red-700">
          {error}
        </p>
      ) : hint ? (
        <p id={`${inputId}-hint`} className="mt-1 text-xs text-stone-500">
          {hint}
        </p>
      ) : null}
    </div>
  );
}

/**
 * Before a form the browser does not validate (noValidate) or a row's editor sends: the first field in `container`
 * past its cap (TextField's maxCharacters) takes focus, where a screen reader reads it with its words. True when there
 * was one: then nothing is to be sent.
 */
export function focusFieldTooLong(container: Element | null): boolean {
  const field = [...(container?.querySelectorAll("input") ?? [])].find((input) => input.validity.customError);
  field?.focus();
  return field !== undefined;
}

export function SelectField({
  label,
  className,
  id,
  children,
  hideLabel,
  ...props
}: SelectHTMLAttributes<HTMLSelectElement> & { label: string; hideLabel?: boolean }) {
  const generated = useId();
  const selectId = id ?? generated;
  return (
    <div className={className}>
      <label
        htmlFor={selectId}
        className={hideLabel ? "sr-only" : "mb-1 block text-sm font-medium text-stone-700"}
      >
        {label}
      </label>
      <select id={selectId} className={cx(inputClass, "pr-8")} {...props}>
        {children}
      </select>
    </div>
  );
}

/**
 * An action that cannot be undone takes two clicks: `label`, then `confirmLabel` (or `keepLabel` to back out). A
 * double click is not two: its second click lands on `confirmLabel`, which takes the place of `label`, and a click
 * counted past the first there (`detail` > 1) is ignored.
 */
export function ConfirmButton({
  label,
  confirmLabel,
  keepLabel,
  onConfirm,
  request,
  busy = false,
  size = "sm",
  disabled,
  title,
}: {
  label: string;
  confirmLabel: string;
  keepLabel: string;
  onConfirm: () => void;
  /** The request `confirmLabel` sends (see SendButton); `busy`: busy after it too. */
  request: Sending;
  busy?: boolean;
  size?: "sm" | "md";
  disabled?: boolean;
  title?: string;
}) {
  // The button pressed goes away (its place taken by `confirmLabel`, or by `label` again after `keepLabel`), and with
  // it a keyboard user's focus: it moves to the button now in front.
  const front = useRef<HTMLButtonElement>(null);
  const [confirming, swap] = useSwap(false, () => front.current);
  if (!confirming) {
    return (
      <Button ref={front} size={size} variant="danger" disabled={disabled} title={title} onClick={() => swap(true)}>
        {label}
      </Button>
    );
  }
  return (
    <>
      {/* Focusable while busy or held: a disabled button would drop focus, and a refused request leaves it in place. */}
      <SendButton ref={front} size={size} variant="danger" onClick={(e) => e.detail <= 1 && onConfirm()} request={request} busy={busy}>
        {confirmLabel}
      </SendButton>
      <Button size={size} variant="ghost" onClick={() => swap(false)} disabled={busy || request.isPending}>
        {keepLabel}
      </Button>
    </>
  );
}

/** "Delete", then "Confirm delete" / "Keep". */
export function ConfirmDeleteButton({ onConfirm, request, busy }: { onConfirm: () => void; request: Sending; busy?: boolean }) {
  return <ConfirmButton label="Delete" confirmLabel="Confirm delete" keepLabel="Keep" onConfirm={onConfirm} request={request} busy={busy} />;
}

type Tone = "error" | "warn" | "success" | "info";
const tones: Record<Tone, string> = {
  error: "border-red-200 bg-red-50 text-red-800",
  // Something that did not work in the background (nothing the user did): said politely, as a status.
  warn: "border-amber-200 bg-amber-50 text-amber-900",
  success: "border-emerald-200 bg-emerald-50 text-emerald-800",
  info: "border-indigo-200 bg-indigo-50 text-indigo-900",
};
const alertClass = (tone: Tone, className?: string) => cx("rounded-lg border px-4 py-3 text-sm", tones[tone], className);

/** `live={false}`: words said elsewhere (useAnnounce), shown here without being said again. */
export function Alert({
  children,
  tone = "error",
  className,
  ref,
  tabIndex,
  live = true,
}: {
  children: ReactNode;
  tone?: Tone;
  className?: string;
  ref?: Ref<HTMLDivElement>;
  tabIndex?: number;
  live?: boolean;
}) {
  const role = !live ? undefined : tone === "error" ? "alert" : "status";
  return (
    <div ref={ref} tabIndex={tabIndex} role={role} className={alertClass(tone, className)}>
      {children}
    </div>
  );
}

/**
 * The error in words, or nothing when there is none (so it can stand where an error may come). `focusFrom`: the part
 * of the page whose control failed, where that control may go away with the error (a cancel refused because the order
 * shipped); each new error takes focus if it is still there or fell to <body>, not from where the user went meanwhile.
 */
export function ErrorAlert({
  error,
  className,
  focusFrom,
  hold,
}: {
  error: unknown;
  className?: string;
  focusFrom?: RefObject<Element | null>;
  /**
   * What the button the error holds says of the wait (useSubmitMutation's holdReason), added to an error whose own
   * words do not say when (a 5xx's Retry-After): the alert and the button then name the same time.
   */
  hold?: string | null;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useTakeFocus(ref, focusFrom ? error : null, focusFrom);
  if (!error) return null;
  const when = hold && error instanceof ApiError && error.status >= 500 ? ` ${hold}` : "";
  return (
    <Alert ref={ref} tabIndex={focusFrom ? -1 : undefined} className={className}>
      {errorMessage(error) + when}
    </Alert>
  );
}

/** Words given to `say`, numbered: the same words said again are a new node, which a screen reader reads again. */
export interface Said {
  words: string;
  n: number;
  focus: boolean;
}

/**
 * Changes what a Notice shows. `focusFrom`: the row or part of the page whose control acted, when that control goes
 * away with the outcome; the words take focus if it is still there (or fell to <body>), not from wherever the user
 * went while the request ran.
 */
export type Say = (words: string, options?: { focusFrom?: Element | null }) => void;

/** What a Notice shows, and `say` to change it. */
export function useNotice(): [Said | null, Say] {
  const [said, setSaid] = useState<Said | null>(null);
  const say = useCallback<Say>((words, options) => {
    // Decided now, while the control that acted is still on the page.
    const focus = options?.focusFrom !== undefined && focusStillIn(options.focusFrom);
    setSaid((prev) => ({ words, n: (prev?.n ?? 0) + 1, focus }));
  }, []);
  return [said, say];
}

/**
 * What an action did ("Deleted MUG."), in a polite live region that is on the page from the start, empty and taking
 * no room until there is something to say: a region added together with its words (`{notice ? <Alert/> : null}`) is
 * often not read. Said with `focus`, it takes focus once its words are in (see useTakeFocus).
 */
export function Notice({ said, className }: { said: Said | null; className?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useTakeFocus(ref, said?.focus ? said : null);
  return (
    <div ref={ref} role="status" tabIndex={-1} className={said ? alertClass("success", className) : "sr-only"}>
      <SaidWords said={said} />
    </div>
  );
}

/** The words in a live region: a new node for each `say`, so the same words said again are read again. */
export function SaidWords({ said }: { said: Said | null }) {
  return said ? <span key={said.n}>{said.words}</span> : null;
}

/** The browser tab and a screen reader's first announcement name the page (WCAG 2.4.2), not just "Shop". */
export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · Shop`;
  }, [title]);
}

export function PageHeader({ title, subtitle, actions }: { title: string; subtitle?: ReactNode; actions?: ReactNode }) {
  usePageTitle(title);
  return (
    <div className="mb-6 flex flex-col gap-3 sm:flex-row sm:items-end sm:justify-between">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight text-stone-900">{title}</h1>
        {subtitle ? <p className="mt-1 text-sm text-stone-500">{subtitle}</p> : null}
      </div>
      {actions ? <div className="flex flex-wrap gap-2">{actions}</div> : null}
    </div>
  );
}

export function Card({ children, className }: { children: ReactNode; className?: string }) {
  return (
    <div className={cx("rounded-xl border border-stone-200 bg-white shadow-sm", className)}>{children}</div>
  );
}

// Text on its background at 4.5:1 or more (WCAG AA; ui.test.tsx computes it from Tailwind's palette).
const statusStyles: Record<OrderStatus, string> = {
  pending: "bg-amber-50 text-amber-800 ring-amber-600/20",
  paid: "bg-sky-50 text-sky-800 ring-sky-600/20",
  shipped: "bg-indigo-50 text-indigo-800 ring-indigo-600/20",
  delivered: "bg-emerald-50 text-emerald-800 ring-emerald-600/20",
  cancelled: "bg-stone-100 text-stone-600 ring-stone-500/20",
  // Paler than cancelled by its fill, not its text: stone-500 on stone-100 was 4.4:1.
  expired: "bg-stone-50 text-stone-600 ring-stone-400/40",
};

export function StatusBadge({ status }: { status: string }) {
  const style = statusStyles[status as OrderStatus] ?? "bg-stone-100 text-stone-700 ring-stone-500/20";
  return (
    <span className={cx("inline-flex items-center rounded-full px-2.5 py-0.5 text-xs font-medium ring-1 ring-inset", style)}>
      {capitalize(status)}
    </span>
  );
}

export function Badge({ children, tone = "neutral" }: { children: ReactNode; tone?: "neutral" | "good" | "bad" | "accent" | "warn" }) {
  const tones = {
    neutral: "bg-stone-100 text-stone-700 ring-stone-500/20",
    good: "bg-emerald-50 text-emerald-800 ring-emerald-600/20",
    bad: "bg-red-50 text-red-700 ring-red-600/20",
    warn: "bg-amber-50 text-amber-800 ring-amber-600/20",
    accent: "bg-indigo-50 text-indigo-800 ring-indigo-600/20",
  };
  return (
    <span className={cx("inline-flex items-center rounded-full px-2.5 py-0.5 text-xs font-medium ring-1 ring-inset", tones[tone])}>
      {children}
    </span>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div role="status" className="flex items-center gap-3 py-10 text-sm text-stone-500">
      <span className="size-4 animate-spin rounded-full border-2 border-stone-300 border-t-indigo-600" aria-hidden="true" />
      {label}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="rounded-xl border border-dashed border-stone-300 bg-white px-6 py-12 text-center">
      <p className="font-medium text-stone-800">{title}</p>
      {children ? <div className="mt-2 text-sm text-stone-500">{children}</div> : null}
    </div>
  );
}

export function Pagination({
  total,
  limit,
  offset,
  onChange,
  label = "Pages",
}: {
  total: number;
  limit: number;
  offset: number;
  onChange: (offset: number) => void;
  label?: string;
}) {
  if (total <= limit && offset === 0) return null;
  const page = Math.floor(offset / limit) + 1;
  const pages = Math.max(1, Math.ceil(total / limit));
  const from = total === 0 ? 0 : offset + 1;
  const to = Math.min(offset + limit, total);
  return (
    <nav aria-label={label} className="mt-6 flex items-center justify-between gap-3 text-sm text-stone-600">
      <p>
        {from}–{to} of {total}
      </p>
      <div className="flex items-center gap-2">
        {/* Focusable when unavailable: pressing Next onto the last page (or Previous onto the first) leaves focus on
            it, where a keyboard user can press the other one, rather than at the top of the page. */}
        <Button
          variant="secondary"
          size="sm"
          focusableWhenDisabled
          disabled={offset === 0}
          onClick={() => onChange(Math.max(0, offset - limit))}
        >
          Previous
        </Button>
        <span aria-current="page" className="px-1">
          Page {page} of {pages}
        </span>
        <Button variant="secondary" size="sm" focusableWhenDisabled disabled={offset + limit >= total} onClick={() => onChange(offset + limit)}>
          Next
        </Button>
      </div>
    </nav>
  );
}
