// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { ApiError } from "../api/errors";
import { ConfirmDeleteButton, ErrorAlert, TextField } from "./ui";

afterEach(cleanup);

describe("ConfirmDeleteButton", () => {
  it("deletes only after Delete, then Confirm delete", () => {
    const onConfirm = vi.fn();
    render(<ConfirmDeleteButton onConfirm={onConfirm} busy={false} />);
    expect(screen.queryByRole("button", { name: "Confirm delete" })).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Delete" }));
    expect(onConfirm).not.toHaveBeenCalled();
    expect(screen.queryByRole("button", { name: "Delete" })).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Confirm delete" }));
    expect(onConfirm).toHaveBeenCalledTimes(1);
  });

  it("a double click on Delete does not delete: its second click lands on Confirm delete", () => {
    const onConfirm = vi.fn();
    render(<ConfirmDeleteButton onConfirm={onConfirm} busy={false} />);
    const button = screen.getByRole("button", { name: "Delete" });
    fireEvent.click(button, { detail: 1 });
    fireEvent.click(button.isConnected ? button : screen.getByRole("button", { name: "Confirm delete" }), { detail: 2 });
    expect(onConfirm).not.toHaveBeenCalled();
    fireEvent.click(screen.getByRole("button", { name: "Confirm delete" }), { detail: 1 });
    expect(onConfirm).toHaveBeenCalledTimes(1);
  });

  it("Keep goes back to a plain Delete without deleting", () => {
    const onConfirm = vi.fn();
    render(<ConfirmDeleteButton onConfirm={onConfirm} busy={false} />);
    fireEvent.click(screen.getByRole("button", { name: "Delete" }));
    fireEvent.click(screen.getByRole("button", { name: "Keep" }));
    expect(screen.getByRole("button", { name: "Delete" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Confirm delete" })).toBeNull();
    expect(onConfirm).not.toHaveBeenCalled();
  });

  it("while the delete runs, Confirm delete keeps its name but is disabled and busy", () => {
    const { rerender } = render(<ConfirmDeleteButton onConfirm={() => {}} busy={false} />);
    fireEvent.click(screen.getByRole("button", { name: "Delete" }));
    rerender(<ConfirmDeleteButton onConfirm={() => {}} busy />);
    const confirm = screen.getByRole("button", { name: "Confirm delete" }) as HTMLButtonElement;
    expect(confirm.disabled).toBe(true);
    expect(confirm.getAttribute("aria-busy")).toBe("true");
  });
});

describe("TextField", () => {
  it("with hideLabel keeps its accessible name from a visually hidden label", () => {
    render(<TextField label="Search" hideLabel type="search" />);
    const input = screen.getByRole("searchbox", { name: "Search" });
    expect(input).toBeTruthy();
    expect(screen.getByText("Search").className).toBe("sr-only");
  });
});

describe("ErrorAlert", () => {
  it("renders nothing without an error, and the message with the given classes with one", () => {
    const { container, rerender } = render(<ErrorAlert error={null} className="mt-2" />);
    expect(container.innerHTML).toBe("");
    rerender(<ErrorAlert error={new ApiError(404, "That item no longer exists.")} className="mt-2" />);
    const alert = screen.getByRole("alert");
    expect(alert.textContent).toBe("That item no longer exists.");
    expect(alert.className).toContain("mt-2");
  });
});
