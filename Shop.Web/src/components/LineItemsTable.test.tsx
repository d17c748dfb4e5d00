// @vitest-environment jsdom
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, render, screen, within } from "@testing-library/react";
import { createMemoryRouter, RouterProvider } from "react-router";
import { EmptyCart } from "./EmptyCart";
import { LineItemsTable } from "./LineItemsTable";

afterEach(cleanup);

describe("LineItemsTable", () => {
  it("shows each line's item, quantity, unit price and total under the given caption and price label", () => {
    render(
      <LineItemsTable
        caption="Items"
        priceLabel="Unit price"
        lines={[{ sku: "MUG", name: "Mug", qty: 2, unitPrice: 8.5, total: 17 }]}
        footer={
          <tr>
            <th scope="row">Total</th>
            <td>17</td>
          </tr>
        }
      />,
    );
    const table = screen.getByRole("table", { name: "Items" });
    expect(within(table).getAllByRole("columnheader").map((h) => h.textContent)).toEqual(["Item", "Qty", "Unit price", "Total"]);
    const [, line, footer] = within(table).getAllByRole("row");
    expect(within(line).getAllByRole("cell").map((c) => c.textContent)).toEqual(["MugMUG", "2", "$8.50", "$17.00"]);
    expect(footer.parentElement?.tagName).toBe("TFOOT");
    expect(screen.queryByText("Not enough stock")).toBeNull();
  });

  it("marks a line that cannot be ordered so and says why", () => {
    render(
      <LineItemsTable
        caption="Order summary"
        priceLabel="Price"
        lines={[
          { sku: "MUG", name: "Mug", qty: 5, unitPrice: 8.5, total: 42.5, problem: "Not enough stock" },
          { sku: "CAP", name: "Cap", qty: 1, unitPrice: 12, total: 12 },
        ]}
      />,
    );
    const [, mug, cap] = screen.getAllByRole("row");
    expect(within(mug).getByText("Not enough stock")).toBeTruthy();
    expect(mug.className).toContain("bg-red-50");
    expect(within(cap).queryByText("Not enough stock")).toBeNull();
    expect(screen.getByRole("table").querySelector("tfoot")).toBeNull();
  });
});

describe("EmptyCart", () => {
  it("titles the page and links to the catalogue", () => {
    const router = createMemoryRouter([{ path: "/", element: <EmptyCart title="Checkout" /> }]);
    render(<RouterProvider router={router} />);
    expect(screen.getByRole("heading", { level: 1, name: "Checkout" })).toBeTruthy();
    expect(screen.getByText("Your cart is empty")).toBeTruthy();
    expect(screen.getByRole("link", { name: "Browse the catalogue" }).getAttribute("href")).toBe("/catalog");
  });
});
