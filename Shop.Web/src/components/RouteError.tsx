import { isRouteErrorResponse, Link, useRouteError } from "react-router";
import { Button, PageHeader } from "./ui";

export default function RouteError() {
  const error = useRouteError();
  const notFound = isRouteErrorResponse(error) && error.status === 404;
  return (
    <div className="mx-auto max-w-xl px-4 py-16">
      <PageHeader title={notFound ? "Page not found" : "Something went wrong"} />
      <div role="alert" className="text-sm text-stone-600">
        {notFound
          ? "The page you are looking for does not exist."
          : "This page could not be loaded. If the shop was just updated, reloading usually helps."}
      </div>
      <div className="mt-6 flex gap-3">
        <Button onClick={() => window.location.reload()}>Reload</Button>
        <Link to="/catalog" className="rounded-lg px-4 py-2 text-sm font-medium text-indigo-700 hover:bg-indigo-50">
          Go to the catalogue
        </Link>
      </div>
    </div>
  );
}
