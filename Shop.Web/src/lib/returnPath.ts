/** What a page that sends a visitor to sign in (or to register) passes along: where to go back to afterwards. */
export interface ReturnState {
  from?: string;
  expired?: boolean;
  /** The email to sign in with: one registration found already taken. */
  email?: string;
  /** The shopper pressed Sign out everywhere: sign in says so. */
  signedOutEverywhere?: boolean;
}

/** Only same-app paths are accepted as a return target; anything else (or the auth pages themselves) goes to the catalogue. */
export function safeReturnPath(from: string | undefined): string {
  if (!from || !from.startsWith("/")) return "/catalog";
  // Read as the browser reads it: "/\\evil.example" (a backslash is a slash) or "/<tab>/evil.example" (tabs and
  // newlines are dropped) name another site, though they start with one "/".
  const origin = "http://shop.invalid";
  const url = new URL(from, origin);
  if (url.origin !== origin || url.pathname.startsWith("/signin") || url.pathname.startsWith("/register")) {
    return "/catalog";
  }
  return url.pathname + url.search + url.hash;
}
