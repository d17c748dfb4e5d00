import type { ReactNode } from "react";

export function AuthShell({ children }: { children: ReactNode }) {
  return <div className="mx-auto w-full max-w-sm py-6 sm:py-12">{children}</div>;
}
