import { createContext, useCallback, useContext, useEffect, useMemo, useSyncExternalStore, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { endSession } from "../api/client";
import {
  getSession,
  listenToOtherTabs,
  saveSession,
  sessionEnd,
  sessionRestoring,
  signOutEveryTab,
  subscribeSession,
  type Session,
  type SessionEnd,
} from "../api/session";
import type { TokenResponse, User } from "../api/types";
import { forgetAttempt } from "../lib/idempotency";
import { clearCart } from "../lib/useCart";

interface AuthValue {
  user: User | null;
  token: string | null;
  isAdmin: boolean;
  /** While signed out, how the last session ended: Sign out here, or the shop refusing it (sign-in says so). */
  sessionEnd: SessionEnd | null;
  /** While signed out: this tab, opened without a session, is asking for the browser's (restoreSession). */
  restoring: boolean;
  signIn: (response: TokenResponse) => void;
  signOut: () => void;
  /** After the shop ended every session of the account: signed out here as by Sign out, and sign in says so. */
  signedOutEverywhere: () => void;
}

const AuthContext = createContext<AuthValue | null>(null);

const serverSnapshot = (): Session | null => null;

export function AuthProvider({ children }: { children: ReactNode }) {
  const session = useSyncExternalStore(subscribeSession, getSession, serverSnapshot);
  const end = useSyncExternalStore(subscribeSession, sessionEnd, () => null);
  const restoring = useSyncExternalStore(subscribeSession, sessionRestoring, () => false);
  const queryClient = useQueryClient();

  const signIn = useCallback(
    (response: TokenResponse) => {
      // A different user may have been signed in on this tab: start from a clean cache.
      queryClient.clear();
      saveSession(response);
    },
    [queryClient],
  );

  // However a session ends (Sign out, or a refused token whose refresh failed: both clear it), the next person at
  // this tab must not find the user's cached data. A sign-out on purpose (here or in another tab of the user) also
  // ends the user's checkout attempt kept after a failure, as it ends the cart: the same items ordered after signing in again
  // are a new order, which the old key would have answered with the old one (kept 24 h for the user). A session the
  // shop refused keeps both, so that the retry after signing in again cannot place a second order.
  useEffect(() => {
    let signedInAs = getSession()?.user.id ?? null;
    return subscribeSession(() => {
      const now = getSession()?.user.id ?? null;
      if (signedInAs !== null && now === null) {
        queryClient.clear();
        if (sessionEnd() !== "refused") forgetAttempt(signedInAs);
      }
      signedInAs = now;
    });
  }, [queryClient]);

  // A sign-out in another tab of this user ends this tab's session too (the same one on the server). Already heard
  // from restoreSession on where a restore began; once a tab, so this adds nothing then.
  useEffect(listenToOtherTabs, []);

  const signOut = useCallback(() => {
    // Signing out says "I am leaving this computer": the cart (kept in localStorage, not per user) goes too. A session
    // that merely expired keeps it, so a shopper who signs in again at checkout still has it.
    clearCart();
    void endSession(); // clears the session at once: the effect above empties the cache
  }, []);

  const signedOutEverywhere = useCallback(() => {
    clearCart(); // as Sign out: the shopper signed out here too, on purpose
    signOutEveryTab("signed-out-everywhere");
  }, []);

  const value = useMemo<AuthValue>(
    () => ({
      user: session?.user ?? null,
      token: session?.token ?? null,
      isAdmin: session?.user.role === "admin",
      sessionEnd: end,
      restoring,
      signIn,
      signOut,
      signedOutEverywhere,
    }),
    [session, end, restoring, signIn, signOut, signedOutEverywhere],
  );

  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error("useAuth must be used inside <AuthProvider>");
  return ctx;
}
