/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from "vite";
import react from "@vitejs/plugin-react";
import tailwindcss from "@tailwindcss/vite";

// The browser reaches this dev server THROUGH the YARP gateway (http://localhost:8080), which
// forwards everything that is not /users, /orders or /inventory here. API calls are same-origin
// relative URLs, so no proxy is configured.
//
// HMR: the browser opens the HMR websocket on the page's origin. When served through the gateway,
// set VITE_HMR_CLIENT_PORT=8080 (the AppHost does) so the client connects to the gateway port,
// which proxies the websocket back to this server. Unset, Vite's default (its own port) applies.
const hmrClientPort = Number(process.env.VITE_HMR_CLIENT_PORT) || undefined;

// The gateway ends a proxied connection on which nothing moves for 25 s; an idle HMR websocket is one. A ping
// every 10 s (a message the Vite client ignores) keeps it open, so hot updates keep arriving after a quiet spell.
function hmrHeartbeat(): Plugin {
  return {
    name: "shop-hmr-heartbeat",
    // The dev server only: vitest serves modules too, but has no HMR client to keep connected.
    apply: (_, env) => env.command === "serve" && !process.env.VITEST,
    configureServer(server) {
      const timer = setInterval(() => server.ws.send({ type: "ping" }), 10_000);
      timer.unref(); // never what keeps the process alive
      server.httpServer?.once("close", () => clearInterval(timer));
    },
  };
}

export default defineConfig({
  plugins: [react(), tailwindcss(), hmrHeartbeat()],
  server: {
    hmr: hmrClientPort ? { clientPort: hmrClientPort } : undefined,
    // Transform the app and every lazily loaded page as soon as the server starts, instead of on the first
    // visit of each route: on a busy 2-core machine a cold page took long enough to time out browser tests.
    warmup: { clientFiles: ["./src/main.tsx", "./src/pages/**/*.tsx"] },
  },
  build: {
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test-setup.ts"],
    // Above the 5 s each findBy/waitFor may take (test-setup.ts): a test with several waits on a loaded machine ends
    // with the wait that failed, not a bare "Test timed out".
    testTimeout: 20_000,
  },
});
