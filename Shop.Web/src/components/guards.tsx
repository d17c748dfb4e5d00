import { Navigate, Outlet, useLocation } from "react-router";
import { useAuth } from "../auth/AuthContext";
import type { ReturnState } from "../lib/returnPath";
import { PageHeader, Alert, Loading } from "./ui";

/**
 * Routes below need a signed-in user; others are sent to sign in and brought back afterwards. A session that ends
 * while such a page is open lands here too (this redirect comes before any other): one the shop refused says so, and
 * after Sign out whoever signs in next starts afresh, not on the page the last user left.
 */
export function RequireAuth() {
  const { user, sessionEnd, restoring } = useAuth();
  const location = useLocation();
  // A new tab asking for the browser's session: sign in only if it has none.
  if (!user && restoring) return <Loading />;
  if (!user) {
    const state: ReturnState =
      sessionEnd === "signed-out"
        ? {}
        : sessionEnd === "signed-out-everywhere"
          ? { signedOutEverywhere: true }
          : { from: location.pathname + location.search, expired: sessionEnd === "refused" || undefined };
    return <Navigate to="/signin" replace state={state} />;
  }
  return <Outlet />;
}

/** Admin pages: a signed-in non-admin sees a "not authorised" message. */
export function RequireAdmin() {
  const { isAdmin } = useAuth();
  if (!isAdmin) {
    return (
      <div className="max-w-xl">
        <PageHeader title="Not authorised" />
        <Alert>You are not authorised to view this page. It is only available to administrators.</Alert>
      </div>
    );
  }
  return <Outlet />;
}
