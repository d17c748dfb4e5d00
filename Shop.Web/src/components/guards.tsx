import { Navigate, Outlet, useLocation } from "react-router";
import { useAuth } from "../auth/AuthContext";
import { PageHeader, Alert } from "./ui";

/** Routes below need a signed-in user; others are sent to sign in and brought back afterwards. */
export function RequireAuth() {
  const { user } = useAuth();
  const location = useLocation();
  if (!user) {
    return <Navigate to="/signin" replace state={{ from: location.pathname + location.search }} />;
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
