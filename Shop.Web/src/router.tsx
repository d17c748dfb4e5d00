import type { ComponentType } from "react";
import { createBrowserRouter, Navigate, useParams, type RouteObject } from "react-router";
import Layout from "./components/Layout";
import RouteError from "./components/RouteError";
import { RequireAdmin, RequireAuth } from "./components/guards";
import { Loading } from "./components/ui";

// Every page is lazily loaded: each becomes its own chunk.
// SPA pages live outside the API prefixes /users, /orders and /inventory. A browser that opens an
// API-looking address (a shared link such as /orders/<id>) is sent the SPA by the gateway, and these
// redirects take it to the matching page.
type PageModule = { default: ComponentType };
/**
 * `keyedBy`: the route param naming what the page shows (an order's id). Another value is another page, started anew.
 * React Router keeps a page mounted while only its params change (a link, Back or Forward from one order to another),
 * and with it the state of the one before: a cancellation asked ("Confirm cancellation" one press away), a cancel still
 * on its way (whose answer was then written and said as the next order's), words said, an error.
 */
const page = (load: () => Promise<PageModule>, keyedBy?: string): Pick<RouteObject, "lazy"> => ({
  lazy: async () => {
    const Page = (await load()).default;
    if (keyedBy === undefined) return { Component: Page };
    return {
      Component: function KeyedPage() {
        return <Page key={useParams()[keyedBy]} />;
      },
    };
  },
});

function RedirectWithId({ to }: { to: string }) {
  const { id = "" } = useParams();
  return <Navigate to={to + encodeURIComponent(id)} replace />;
}

export const routes: RouteObject[] = [
  {
    element: <Layout />,
    errorElement: <RouteError />,
    // Shown while the first page's chunk loads.
    hydrateFallbackElement: <Loading />,
    children: [
      { index: true, element: <Navigate to="/catalog" replace /> },
      { path: "signin", ...page(() => import("./pages/SignInPage")) },
      { path: "register", ...page(() => import("./pages/RegisterPage")) },
      { path: "cart", ...page(() => import("./pages/CartPage")) },
      {
        element: <RequireAuth />,
        children: [
          { path: "catalog", ...page(() => import("./pages/CatalogPage")) },
          { path: "checkout", ...page(() => import("./pages/CheckoutPage")) },
          { path: "my/orders", ...page(() => import("./pages/MyOrdersPage")) },
          { path: "my/orders/:id", ...page(() => import("./pages/OrderDetailPage"), "id") },
          { path: "account", ...page(() => import("./pages/AccountPage")) },
          {
            path: "admin",
            element: <RequireAdmin />,
            children: [
              { index: true, element: <Navigate to="/admin/inventory" replace /> },
              { path: "inventory", ...page(() => import("./pages/admin/AdminInventoryPage")) },
              { path: "orders", ...page(() => import("./pages/admin/AdminOrdersPage")) },
              { path: "orders/:id", ...page(() => import("./pages/OrderDetailPage"), "id") },
              { path: "users", ...page(() => import("./pages/admin/AdminUsersPage")) },
              { path: "webhooks", ...page(() => import("./pages/admin/AdminWebhooksPage")) },
            ],
          },
        ],
      },
      { path: "orders", element: <Navigate to="/my/orders" replace /> },
      { path: "orders/:id", element: <RedirectWithId to="/my/orders/" /> },
      { path: "inventory/*", element: <Navigate to="/catalog" replace /> },
      { path: "users/*", element: <Navigate to="/admin/users" replace /> },
      { path: "*", ...page(() => import("./pages/NotFoundPage")) },
    ],
  },
];

export function createRouter() {
  return createBrowserRouter(routes);
}
