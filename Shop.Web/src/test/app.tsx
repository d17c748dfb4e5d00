// What the page tests share: the whole app rendered at an address, and the shop's answers as fetch returns them.
import { render } from "@testing-library/react";
import { QueryClientProvider, type QueryClient } from "@tanstack/react-query";
import { createMemoryRouter, RouterProvider } from "react-router";
import { createQueryClient } from "../api/queries";
import { AuthProvider } from "../auth/AuthContext";
import { routes } from "../router";

/** The app as main.tsx puts it together (its routes, auth, a query cache), opened at `path`. */
export function renderAt(path: string, queryClient: QueryClient = createQueryClient()) {
  const router = createMemoryRouter(routes, { initialEntries: [path] });
  render(
    <QueryClientProvider client={queryClient}>
      <AuthProvider>
        <RouterProvider router={router} />
      </AuthProvider>
    </QueryClientProvider>,
  );
  return router;
}

/** A JSON answer (a 204 has no body, as the shop sends it). */
export function json(status: number, body: unknown, type = "application/json") {
  return new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { "content-type": type } });
}
