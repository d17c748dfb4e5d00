import type { ProblemDetails } from "./types";

/**
 * An API failure in words a person can read. `message` is always safe to show: it is built from
 * the problem+json fields, never the raw body.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: ProblemDetails | null;
  /** Validation messages per field (field names as the server sent them). */
  readonly fieldErrors: Record<string, string[]>;
  /** For a 409 stock problem: the skus that could not be met. */
  readonly shortSkus: string[];
  /** The Retry-After the answer carried: the server says the same request may succeed later. */
  retryAfter: string | null = null;

  constructor(
    status: number,
    message: string,
    problem: ProblemDetails | null = null,
    fieldErrors: Record<string, string[]> = {},
    shortSkus: string[] = [],
  ) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
    this.fieldErrors = fieldErrors;
    this.shortSkus = shortSkus;
  }

  get isNetworkError(): boolean {
    return this.status === 0;
  }
}

export interface ProblemContext {
  /** Whether the request carried a bearer token (a 401 then means "session expired"). */
  authenticated?: boolean;
  /** Value of a Retry-After header, if any. */
  retryAfter?: string | null;
}

export const NETWORK_ERROR_MESSAGE =
  "Cannot reach the shop right now. Check your connection and try again.";

/** "unit_price" / "Items[0].Qty" / "$.email" → "Unit price" / "Items 1 qty" / "Email". */
export function humanizeField(field: string): string {
  const cleaned = field
    .replace(/^\$\.?/, "")
    .replace(/\[(\d+)\]/g, (_, i: string) => ` ${Number(i) + 1}`)
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[._]+/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .toLowerCase();
  if (!cleaned) return "Request";
  return cleaned.charAt(0).toUpperCase() + cleaned.slice(1);
}

export function normalizeFieldErrors(errors: ProblemDetails["errors"]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (!errors || typeof errors !== "object") return out;
  for (const [field, value] of Object.entries(errors)) {
    const list = (Array.isArray(value) ? value : [value]).filter(
      (m): m is string => typeof m === "string" && m.trim() !== "",
    );
    if (list.length) out[field] = list;
  }
  return out;
}

interface Shortage {
  sku: string;
  requested?: number;
  available?: number;
}

function toShortage(value: unknown): Shortage | null {
  if (typeof value === "string" && value.trim()) return { sku: value.trim() };
  if (value && typeof value === "object") {
    const v = value as Record<string, unknown>;
    if (typeof v.sku === "string") {
      const num = (x: unknown) => (typeof x === "number" ? x : undefined);
      return {
        sku: v.sku,
        requested: num(v.requested) ?? num(v.qty) ?? num(v.requested_qty),
        available: num(v.available) ?? num(v.available_qty) ?? num(v.in_stock),
      };
    }
  }
  return null;
}

/** Finds the short skus in a 409 problem, whatever extension the server used to list them. */
export function extractShortages(problem: ProblemDetails | null): Shortage[] {
  if (!problem) return [];
  const keys = ["short_skus", "shortages", "insufficient", "insufficient_stock", "skus", "items"];
  for (const key of keys) {
    const value = problem[key];
    if (Array.isArray(value)) {
      const list = value.map(toShortage).filter((s): s is Shortage => s !== null);
      if (list.length) return list;
    }
  }
  // Some servers put the skus in `errors`, keyed by sku or under a "sku"/"items" field.
  const fieldErrors = normalizeFieldErrors(problem.errors);
  const fromErrors = fieldErrors.skus ?? fieldErrors.sku ?? fieldErrors.short_skus;
  if (fromErrors) return fromErrors.map((sku) => ({ sku }));
  return [];
}

function describeShortage(s: Shortage): string {
  if (s.available !== undefined && s.requested !== undefined) {
    return `${s.sku} (you asked for ${s.requested}, ${s.available} left)`;
  }
  if (s.available !== undefined) return `${s.sku} (${s.available} left)`;
  return s.sku;
}

/**
 * How many seconds from now a Retry-After says to wait (it is either seconds or an HTTP date), or null when it
 * says nothing usable. The message and any control held until then read it through here, so they agree.
 */
export function retryAfterSeconds(retryAfter: string | null | undefined, now = Date.now()): number | null {
  if (!retryAfter) return null;
  const seconds = Number(retryAfter);
  if (retryAfter.trim() !== "" && Number.isFinite(seconds)) return seconds >= 0 ? seconds : null;
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? null : Math.max(0, (date - now) / 1000);
}

function retryAfterText(retryAfter: string | null | undefined): string {
  const seconds = retryAfterSeconds(retryAfter);
  if (seconds === null) return "later";
  if (seconds < 60) {
    const whole = Math.max(1, Math.ceil(seconds));
    return `in ${whole} second${whole === 1 ? "" : "s"}`;
  }
  const minutes = Math.ceil(seconds / 60);
  return `in ${minutes} minute${minutes === 1 ? "" : "s"}`;
}

/** `text` ended as a sentence, where the shop did not end it. */
function asSentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

function isReadable(text: unknown): text is string {
  // Never surface something that looks like JSON, a stack trace or markup.
  return (
    typeof text === "string" &&
    text.trim() !== "" &&
    text.length <= 500 &&
    !/^[[{<]/.test(text.trim()) &&
    !/\bat [\w.$]+\(/.test(text)
  );
}

/** Maps an HTTP status + problem+json body to an ApiError with a human-readable message. */
export function problemToError(
  status: number,
  problem: ProblemDetails | null,
  context: ProblemContext = {},
): ApiError {
  const error = describeProblem(status, problem, context);
  error.retryAfter = context.retryAfter ?? null;
  return error;
}

function describeProblem(status: number, problem: ProblemDetails | null, context: ProblemContext): ApiError {
  const detail = isReadable(problem?.detail) ? problem!.detail! : undefined;
  const title = isReadable(problem?.title) ? problem!.title! : undefined;
  const fieldErrors = normalizeFieldErrors(problem?.errors);

  if (status === 400 || status === 422 || Object.keys(fieldErrors).length) {
    // Each field's words as a sentence of their own: joined with ";", the shop's own full stops read ".;".
    const lines = Object.entries(fieldErrors).map(([field, msgs]) => asSentence(`${humanizeField(field)}: ${msgs.join(" ")}`));
    if (lines.length) {
      return new ApiError(status, "Please check the following: " + lines.join(" "), problem, fieldErrors);
    }
    if (status === 422) {
      return new ApiError(
        status,
        detail ??
          "This request was already sent with different contents. Review it and try again.",
        problem,
      );
    }
    return new ApiError(status, detail ?? title ?? "The request was not valid.", problem);
  }

  switch (status) {
    case 401:
      return new ApiError(
        status,
        context.authenticated
          ? "Your session has expired. Please sign in again."
          : (detail ?? "The email or password is incorrect."),
        problem,
      );
    case 403:
      return new ApiError(status, detail ?? "You are not allowed to do that.", problem);
    case 404:
      return new ApiError(status, detail ?? "We could not find that.", problem);
    case 409: {
      const shortages = extractShortages(problem);
      if (shortages.length) {
        const skus = shortages.map((s) => s.sku);
        const message =
          `Not enough stock for ${shortages.length === 1 ? "this item" : "these items"}: ` +
          shortages.map(describeShortage).join(", ") +
          ". Lower the quantity or remove the item, then try again.";
        return new ApiError(status, message, problem, {}, skus);
      }
      if (context.retryAfter) {
        // The same request is still being worked on (an order placed with this Idempotency-Key).
        return new ApiError(
          status,
          `This is still being processed. Try again ${retryAfterText(context.retryAfter)}: it will not be done twice.`,
          problem,
        );
      }
      return new ApiError(
        status,
        detail ?? title ?? "That conflicts with the current state. Refresh and try again.",
        problem,
      );
    }
    case 413:
      return new ApiError(status, "That request is too large.", problem);
    case 429:
      return new ApiError(
        status,
        `Too many attempts. Please try again ${retryAfterText(context.retryAfter)}.`,
        problem,
      );
    default:
      if (status >= 500) {
        // A Retry-After's wait is said by what it holds (the held button's words, ErrorAlert's `hold`): "in a moment"
        // beside "try again at 19:50" said two things.
        const unavailable = "The shop is temporarily unavailable.";
        return new ApiError(status, detail ?? (context.retryAfter ? unavailable : `${unavailable} Please try again in a moment.`), problem);
      }
      return new ApiError(status, detail ?? title ?? `Request failed (${status}).`, problem);
  }
}

export function networkError(): ApiError {
  return new ApiError(0, NETWORK_ERROR_MESSAGE);
}

/** Message for anything thrown by a query or mutation. */
/** Whether `error` is the server's problem of that status and title (a refusal the page answers in its own way). */
export function isProblem(error: unknown, status: number, title: string): boolean {
  return error instanceof ApiError && error.status === status && error.problem?.title === title;
}

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return "Something went wrong. Please try again.";
}

/** The validation message for one form field, matching the server's key case-insensitively. */
export function fieldError(error: unknown, field: string): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  const wanted = field.toLowerCase();
  for (const [key, msgs] of Object.entries(error.fieldErrors)) {
    if (key.replace(/^\$\.?/, "").toLowerCase() === wanted) return msgs.join(" ");
  }
  return undefined;
}
