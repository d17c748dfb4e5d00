// @vitest-environment jsdom
import { useState } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import colors from "tailwindcss/colors";
import { ApiError } from "../api/errors";
import { ORDER_STATUSES } from "../api/types";
import { Badge, ConfirmDeleteButton, ErrorAlert, Pagination, StatusBadge, TextField } from "./ui";

afterEach(cleanup);

/** The request a Confirm button sends: not sent yet, and on its way. */
const idle = { isPending: false, held: false, error: null };
const running = { ...idle, isPending: true };

describe("ConfirmDeleteButton", () => {
  it("deletes only after Delete, then Confirm delete", () => {
    const onConfirm = vi.fn();
    render(<ConfirmDeleteButton onConfirm={onConfirm} request={idle} />);
    expect(screen.queryByRole("button", { name: "Confirm delete" })).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Delete" }));
    expect(onConfirm).not.toHaveBeenCalled();
    expect(screen.queryByRole("button", { name: "Delete" })).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Confirm delete" }));
    expect(onConfirm).toHaveBeenCalledTimes(1);
  });

  it("a double click on Delete does not delete: its second click lands on Confirm delete", () => {
    const onConfirm = vi.fn();
    render(<ConfirmDeleteButton onConfirm={onConfirm} request={idle} />);
    const button = screen.getByRole("button", { name: "Delete" });
    fireEvent.click(button, { detail: 1 });
    fireEvent.click(button.isConnected ? button : screen.getByRole("button", { name: "Confirm delete" }), { detail: 2 });
    expect(onConfirm).not.toHaveBeenCalled();
    fireEvent.click(screen.getByRole("button", { name: "Confirm delete" }), { detail: 1 });
    expect(onConfirm).toHaveBeenCalledTimes(1);
  });

  it("Keep goes back to a plain Delete without deleting", () => {
    const onConfirm = vi.fn();
    render(<ConfirmDeleteButton onConfirm={onConfirm} request={idle} />);
    fireEvent.click(screen.getByRole("button", { name: "Delete" }));
    fireEvent.click(screen.getByRole("button", { name: "Keep" }));
    expect(screen.getByRole("button", { name: "Delete" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Confirm delete" })).toBeNull();
    expect(onConfirm).not.toHaveBeenCalled();
  });

  it("while the delete runs, Confirm delete keeps its name but is unavailable and busy", () => {
    const { rerender } = render(<ConfirmDeleteButton onConfirm={() => {}} request={idle} />);
    fireEvent.click(screen.getByRole("button", { name: "Delete" }));
    rerender(<ConfirmDeleteButton onConfirm={() => {}} request={running} />);
    const confirm = screen.getByRole("button", { name: "Confirm delete" }) as HTMLButtonElement;
    expect(confirm.getAttribute("aria-disabled")).toBe("true");
    expect(confirm.getAttribute("aria-busy")).toBe("true");
  });

  // Each button takes the place of the one pressed, which goes away under the user's focus: a keyboard user must not
  // be left at <body>, Tabbing from the top of the page to find Confirm delete.
  it("from the keyboard, focus follows: Delete to Confirm delete, Keep back to Delete, and stays on Confirm delete while it runs", () => {
    const onConfirm = vi.fn();
    const { rerender } = render(<ConfirmDeleteButton onConfirm={onConfirm} request={idle} />);
    const del = screen.getByRole("button", { name: "Delete" });
    del.focus();
    fireEvent.click(del);
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Confirm delete" }));
    const keep = screen.getByRole("button", { name: "Keep" });
    keep.focus();
    fireEvent.click(keep);
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Delete" }));
    fireEvent.click(screen.getByRole("button", { name: "Delete" }));
    const confirm = screen.getByRole("button", { name: "Confirm delete" }) as HTMLButtonElement;
    expect(document.activeElement).toBe(confirm);
    fireEvent.click(confirm, { detail: 1 });
    rerender(<ConfirmDeleteButton onConfirm={onConfirm} request={running} />);
    // A disabled button loses focus in browsers: while the request runs it says it is unavailable instead.
    expect(confirm.disabled).toBe(false);
    expect(confirm.getAttribute("aria-disabled")).toBe("true");
    expect(document.activeElement).toBe(confirm);
    fireEvent.click(confirm, { detail: 1 });
    expect(onConfirm).toHaveBeenCalledTimes(1);
  });
});

describe("TextField", () => {
  it("with hideLabel keeps its accessible name from a visually hidden label", () => {
    render(<TextField label="Search" hideLabel type="search" />);
    const input = screen.getByRole("searchbox", { name: "Search" });
    expect(input).toBeTruthy();
    expect(screen.getByText("Search").className).toBe("sr-only");
  });

  it("past maxCharacters it is said once, as it goes over (and again only after coming back under), while the count stays in sight", async () => {
    function Name() {
      const [value, setValue] = useState("");
      return <TextField label="Name" maxCharacters={5} value={value} onChange={(e) => setValue(e.target.value)} />;
    }
    const { container } = render(<Name />);
    const input = screen.getByLabelText("Name");
    // What a screen reader is given to say: a live region's words each time the DOM under it changes.
    const said: string[] = [];
    const observer = new MutationObserver((records) => {
      const regions = new Set(records.map((r) => (r.target instanceof Element ? r.target : r.target.parentElement)?.closest("[aria-live]")));
      for (const region of regions) if (region?.textContent) said.push(region.textContent);
    });
    observer.observe(container, { subtree: true, childList: true, characterData: true });
    const type = async (value: string) => {
      fireEvent.change(input, { target: { value } });
      await Promise.resolve(); // MutationObserver reports in a microtask
    };
    for (const value of ["abcdef", "abcdefg", "abcdefgh", "abcde", "abcdef", "abcdefg"]) await type(value);
    observer.disconnect();
    expect(said).toEqual(["Too long: shorten this to 5 characters.", "Too long: shorten this to 5 characters."]);
    // In sight and in its description, the count as it is now; the field is invalid.
    expect(input.getAttribute("aria-invalid")).toBe("true");
    expect(document.getElementById(input.getAttribute("aria-describedby") ?? "")?.textContent).toBe("Shorten this to 5 characters: it has 7.");
    expect(screen.getByText("Shorten this to 5 characters: it has 7.").className).not.toContain("sr-only");
    await type("abc");
    expect(input.getAttribute("aria-invalid")).toBeNull();
    expect(input.getAttribute("aria-describedby")).toBeNull();
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

/** WCAG relative luminance of a Tailwind palette colour (its `oklch(L% C h)`), by way of linear sRGB. */
function luminance(color: string): number {
  const m = /^oklch\(([\d.]+)% ([\d.]+) ([\d.]+)\)$/.exec(color);
  if (!m) throw new Error(`not an oklch colour: ${color}`);
  const [L, C, h] = [Number(m[1]) / 100, Number(m[2]), (Number(m[3]) * Math.PI) / 180];
  const [a, b] = [C * Math.cos(h), C * Math.sin(h)];
  const l = (L + 0.3963377774 * a + 0.2158037573 * b) ** 3;
  const mm = (L - 0.1055613458 * a - 0.0638541728 * b) ** 3;
  const s = (L - 0.0894841775 * a - 1.291485548 * b) ** 3;
  const clip = (x: number) => Math.min(1, Math.max(0, x));
  const r = clip(4.0767416621 * l - 3.3077115913 * mm + 0.2309699292 * s);
  const g = clip(-1.2684380046 * l + 2.6097574011 * mm - 0.3413193965 * s);
  const bl = clip(-0.0041960863 * l - 0.7034186147 * mm + 1.707614701 * s);
  return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
}

/** The contrast of an element's `text-<hue>-<shade>` on its `bg-<hue>-<shade>`, from Tailwind's own palette. */
function contrastOf(element: Element): number {
  const shade = (prefix: string) => {
    const m = new RegExp(`(?:^| )${prefix}-([a-z]+)-(\\d+)(?: |$)`).exec(element.className);
    if (!m) throw new Error(`no ${prefix} colour in "${element.className}"`);
    return (colors as unknown as Record<string, Record<string, string>>)[m[1]][m[2]];
  };
  const [fg, bg] = [luminance(shade("text")), luminance(shade("bg"))];
  return (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
}

describe("badges", () => {
  it("every status badge's text reaches WCAG AA contrast (4.5:1) on its background", () => {
    render(
      <>
        {[...ORDER_STATUSES, "unknown"].map((s) => <StatusBadge key={s} status={s} />)}
      </>,
    );
    for (const status of [...ORDER_STATUSES, "unknown"]) {
      const badge = screen.getByText(status[0].toUpperCase() + status.slice(1));
      expect(contrastOf(badge), status).toBeGreaterThanOrEqual(4.5);
    }
  });

  it("every badge tone's text reaches WCAG AA contrast (4.5:1) on its background", () => {
    const tones = ["neutral", "good", "bad", "warn", "accent"] as const;
    render(<>{tones.map((t) => <Badge key={t} tone={t}>{t}</Badge>)}</>);
    for (const tone of tones) expect(contrastOf(screen.getByText(tone)), tone).toBeGreaterThanOrEqual(4.5);
  });
});

describe("Pagination", () => {
  // A disabled button loses focus in browsers (to <body>): a keyboard user pressing Next onto the last page, or
  // Previous onto the first, would be thrown to the top of the page.
  it("Next pressed onto the last page keeps focus: it says it is unavailable (aria-disabled) and ignores a press", () => {
    const onChange = vi.fn();
    function Pager() {
      const [offset, setOffset] = useState(12);
      return (
        <Pagination
          total={30}
          limit={12}
          offset={offset}
          onChange={(o) => {
            onChange(o);
            setOffset(o);
          }}
        />
      );
    }
    const focusedButUnavailable = (button: HTMLButtonElement) => {
      expect(button.disabled).toBe(false);
      expect(button.getAttribute("aria-disabled")).toBe("true");
      expect(document.activeElement).toBe(button);
    };
    render(<Pager />);
    const pager = screen.getByRole("navigation", { name: "Pages" });
    const next = within(pager).getByRole("button", { name: "Next" }) as HTMLButtonElement;
    next.focus();
    fireEvent.click(next);
    expect(pager.textContent).toContain("25–30 of 30");
    focusedButUnavailable(next);
    fireEvent.click(next);
    expect(onChange.mock.calls).toEqual([[24]]);

    const previous = within(pager).getByRole("button", { name: "Previous" }) as HTMLButtonElement;
    expect(previous.getAttribute("aria-disabled")).toBeNull();
    previous.focus();
    fireEvent.click(previous);
    fireEvent.click(previous);
    expect(pager.textContent).toContain("1–12 of 30");
    focusedButUnavailable(previous);
    fireEvent.click(previous);
    expect(onChange.mock.calls).toEqual([[24], [12], [0]]);
  });
});
