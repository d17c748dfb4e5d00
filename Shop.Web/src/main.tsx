import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { QueryClientProvider } from "@tanstack/react-query";
import { RouterProvider } from "react-router/dom";
import { restoreSession } from "./api/client";
import { createQueryClient } from "./api/queries";
import { AuthProvider } from "./auth/AuthContext";
import { createRouter } from "./router";
import { HoldsProvider } from "./lib/useRetryAfterHold";
import { sweepKeptAttempts } from "./lib/idempotency";
import "./index.css";

const queryClient = createQueryClient();
const router = createRouter();
// Before the first render, so that a new tab of a signed-in browser waits for its session instead of showing sign in.
void restoreSession();
// Kept checkout attempts past their lifetime (any user's, left by checkouts that failed) go at once, not at the next checkout.
void sweepKeptAttempts();

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <AuthProvider>
        <HoldsProvider>
          <RouterProvider router={router} />
        </HoldsProvider>
      </AuthProvider>
    </QueryClientProvider>
  </StrictMode>,
);
