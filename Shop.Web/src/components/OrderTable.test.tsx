// @vitest-environment jsdom
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, render, screen, within } from "@testing-library/react";
import { QueryClient, QueryClientProvider, useQuery } from "@tanstack/react-query";
import { createMemoryRouter, RouterProvider } from "react-router";
import type { Order } from "../api/types";
import { OrderStatusFilter, OrderTable } from "./OrderTable";

afterEach(cleanup);

const order: Order = {
  id: "3f2a9c1d-0000-4000-8000-000000000000",
  user_id: 7,
  status: "paid",
  total: 17,
  items: [{ sku: "MUG", name: "Mug", qty: 2, unit_price: 8.5, line_total: 17 }],
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
};

function Orders({ admin }: { admin: boolean }) {
  const query = useQuery({ queryKey: ["orders"], queryFn: async () => ({ items: [order], total: 1, limit: 20, offset: 0 }) });
  return (
    <OrderTable
      query={query}
      queryKey={["orders"]}
      linkBase={admin ? "/admin/orders" : "/my/orders"}
      showUser={admin}
      actions={admin ? () => <button>Update status</button> : undefined}
      empty={<p>No orders</p>}
      pages={{ size: 20, offset: 0, onChange: () => {} }}
    />
  );
}

function renderOrders(admin: boolean) {
  const router = createMemoryRouter([{ path: "/", element: <Orders admin={admin} /> }]);
  render(
    <QueryClientProvider client={new QueryClient()}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
}

describe("OrderTable", () => {
  it("a customer's list: order link, placed, items, total, status", async () => {
    renderOrders(false);
    const link = await screen.findByRole("link", { name: "Order 3f2a9c1d" });
    expect(link.getAttribute("href")).toBe(`/my/orders/${order.id}`);
    expect(screen.getAllByRole("columnheader").map((h) => h.textContent)).toEqual(["Order", "Placed", "Items", "Total", "Status"]);
  });

  it("the admin list adds the user and a status-change column", async () => {
    renderOrders(true);
    const link = await screen.findByRole("link", { name: "Order 3f2a9c1d" });
    expect(link.getAttribute("href")).toBe(`/admin/orders/${order.id}`);
    expect(screen.getAllByRole("columnheader").map((h) => h.textContent)).toEqual(["Order", "User", "Placed", "Items", "Total", "Status", "Change status"]);
    const row = screen.getAllByRole("row")[1];
    expect(within(row).getByText("#7")).toBeTruthy();
    expect(within(row).getByRole("button", { name: "Update status" })).toBeTruthy();
  });
});

describe("OrderStatusFilter", () => {
  it("offers all statuses (empty value) and each status by name", () => {
    render(<OrderStatusFilter hideLabel value="" onChange={() => {}} />);
    const select = screen.getByRole("combobox", { name: "Status" });
    const options = within(select).getAllByRole("option") as HTMLOptionElement[];
    expect(options.map((o) => [o.value, o.textContent])).toEqual([
      ["", "All statuses"],
      ["pending", "Pending"],
      ["paid", "Paid"],
      ["shipped", "Shipped"],
      ["delivered", "Delivered"],
      ["cancelled", "Cancelled"],
      ["expired", "Expired"],
    ]);
  });
});
