// @vitest-environment jsdom
import { useLayoutEffect, useRef, useState, type ReactElement } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { fireEvent as dispatch } from "@testing-library/dom"; // no act(): this runs inside a commit
import { QuantityInput } from "./QuantityInput";

afterEach(cleanup);

/** A cart line of 3 with 3 in stock whose field is typed into as soon as it is on the page, before React's passive
 *  effects of that first render have run (what a shopper, or a test on a loaded machine, can do). */
function TypedAtOnce({ typed }: { typed: string }) {
  const [qty, setQty] = useState(3);
  const box = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    dispatch.change(box.current!.querySelector("input")!, { target: { value: typed } });
  }, [typed]);
  return (
    <div ref={box}>
      <QuantityInput value={qty} max={3} label="quantity of Mug" onChange={setQty} />
    </div>
  );
}

describe("QuantityInput", () => {
  it("keeps what was typed before its first render's effects ran, and says why it holds less", () => {
    render(<TypedAtOnce typed="10" />);
    const input = screen.getByRole("spinbutton", { name: "quantity of Mug" }) as HTMLInputElement;
    expect(input.value).toBe("10");
    fireEvent.keyDown(input, { key: "Enter" });
    expect(input.value).toBe("3");
    expect(document.getElementById(input.getAttribute("aria-describedby") ?? "")?.textContent).toBe("Only 3 in stock.");
  });

  it("shows a quantity changed from outside (another tab, the + button) in place of the draft", () => {
    const { rerender } = render(<QuantityInput value={2} max={5} label="q" onChange={() => {}} />);
    const input = screen.getByRole("spinbutton", { name: "q" }) as HTMLInputElement;
    fireEvent.change(input, { target: { value: "4" } });
    rerender(<QuantityInput value={5} max={5} label="q" onChange={() => {}} />);
    expect(input.value).toBe("5");
  });

  it("words the note from the stock as it is now, and drops it once the line is below its limit", () => {
    const line = (value: number, max: number) => <QuantityInput value={value} max={max} label="q" onChange={() => {}} />;
    const { rerender } = render(line(3, 3));
    const input = screen.getByRole("spinbutton", { name: "q" }) as HTMLInputElement;
    const note = () => document.getElementById(input.getAttribute("aria-describedby") ?? "")?.textContent;
    fireEvent.change(input, { target: { value: "10" } });
    fireEvent.keyDown(input, { key: "Enter" });
    expect(note()).toBe("Only 3 in stock.");
    rerender(line(2, 2)); // the stock fell to 2 and the cart followed it
    expect(note()).toBe("Only 2 in stock.");
    rerender(line(2, 8)); // restocked: 2 is no longer the most the cart may hold
    expect(note()).toBeUndefined();
  });

  it("says which limit held what was typed: the stock, the order's 100 units, or 1000 a line", () => {
    const typedPast = (line: ReactElement, typed: string) => {
      const { unmount } = render(line);
      const input = screen.getByRole("spinbutton", { name: "q" }) as HTMLInputElement;
      fireEvent.change(input, { target: { value: typed } });
      fireEvent.keyDown(input, { key: "Enter" });
      const note = document.getElementById(input.getAttribute("aria-describedby") ?? "")?.textContent;
      unmount();
      return note;
    };
    expect(typedPast(<QuantityInput value={30} max={30} room={40} label="q" onChange={() => {}} />, "50")).toBe("Only 30 in stock.");
    expect(typedPast(<QuantityInput value={40} max={500} room={40} label="q" onChange={() => {}} />, "50")).toBe("At most 100 units per order.");
    expect(typedPast(<QuantityInput value={1000} label="q" onChange={() => {}} />, "5000")).toBe("At most 1000 per order.");
  });

  it("says why when the stock fell below the line's quantity (read again at checkout), though nothing was typed", () => {
    const line = (value: number, max: number) => <QuantityInput value={value} max={max} label="q" onChange={() => {}} />;
    const { rerender } = render(line(5, 2));
    const input = screen.getByRole("spinbutton", { name: "q" }) as HTMLInputElement;
    const note = () => document.getElementById(input.getAttribute("aria-describedby") ?? "")?.textContent;
    expect(note()).toBe("Only 2 in stock.");
    expect(screen.getByRole("button", { name: "Increase q" }).getAttribute("aria-disabled")).toBe("true");
    rerender(line(5, 0)); // sold out
    expect(note()).toBe("Out of stock.");
    expect(screen.getByRole("button", { name: "Increase q" }).getAttribute("aria-disabled")).toBe("true");
  });
});
