// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { createMemoryRouter, RouterProvider } from "react-router";
import { AuthForm } from "./AuthForm";
import { TextField } from "./ui";

afterEach(cleanup);

function renderForm(busy: boolean, onSubmit: () => void) {
  const router = createMemoryRouter([
    {
      path: "/",
      element: (
        <AuthForm
          title="Sign in"
          subtitle="Welcome back."
          submitLabel="Sign in"
          busy={busy}
          onSubmit={onSubmit}
          other={{ prompt: "New here?", to: "/register", label: "Create an account" }}
        >
          <TextField label="Email" name="email" />
        </AuthForm>
      ),
    },
  ]);
  render(<RouterProvider router={router} />);
}

describe("AuthForm", () => {
  it("has the heading, the fields, a named submit button and the link to the other page", () => {
    const onSubmit = vi.fn();
    renderForm(false, onSubmit);
    expect(screen.getByRole("heading", { level: 1, name: "Sign in" })).toBeTruthy();
    expect(screen.getByLabelText("Email")).toBeTruthy();
    expect(screen.getByRole("link", { name: "Create an account" }).getAttribute("href")).toBe("/register");
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(onSubmit).toHaveBeenCalledTimes(1);
  });

  it("ignores a submit while busy (Enter in a field still submits a form), its button unavailable but focusable", () => {
    const onSubmit = vi.fn();
    renderForm(true, onSubmit);
    const button = screen.getByRole("button", { name: "Sign in" }) as HTMLButtonElement;
    // Natively disabled, the button pressed would drop a keyboard user's focus to the page.
    expect(button.getAttribute("aria-disabled")).toBe("true");
    expect(button.disabled).toBe(false);
    fireEvent.click(button);
    fireEvent.submit(screen.getByLabelText("Email").closest("form")!);
    expect(onSubmit).not.toHaveBeenCalled();
  });
});
