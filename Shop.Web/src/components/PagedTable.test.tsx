// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { useState } from "react";
import { keepPreviousData, QueryClient, QueryClientProvider, useQuery, type UseQueryResult } from "@tanstack/react-query";
import { ApiError } from "../api/errors";
import type { Paged } from "../api/types";
import { PagedTable } from "./PagedTable";

interface Fruit {
  id: number;
  name: string;
}

function FruitTable({ query, offset, onChange }: { query: UseQueryResult<Paged<Fruit>>; offset: number; onChange: (o: number) => void }) {
  return (
    <PagedTable
      query={query}
      queryKey={["fruits", offset]}
      columns={[{ label: "Name" }, { label: "Id", className: "text-right" }]}
      row={(f) => (
        <tr key={f.id} aria-label={f.name}>
          <td>{f.name}</td>
          <td>{f.id}</td>
        </tr>
      )}
      empty={<p>No fruit</p>}
      loadingLabel="Loading fruit…"
      caption="Fruit"
      what="the fruit"
      pages={{ size: 2, offset, onChange, label: "Fruit pages" }}
    />
  );
}

function Fruits({ load, offset = 0, onChange = () => {} }: { load: () => Promise<Paged<Fruit>>; offset?: number; onChange?: (o: number) => void }) {
  const query = useQuery({ queryKey: ["fruits", offset], queryFn: load, retry: false });
  return <FruitTable query={query} offset={offset} onChange={onChange} />;
}

/** As the pages use it: the offset moves with the pager, the page shown stays until the next is read (keepPreviousData). */
function PagedFruits({ load }: { load: (offset: number) => Promise<Paged<Fruit>> }) {
  const [offset, setOffset] = useState(0);
  const query = useQuery({ queryKey: ["fruits", offset], queryFn: () => load(offset), retry: false, placeholderData: keepPreviousData });
  return <FruitTable query={query} offset={offset} onChange={setOffset} />;
}

function renderFruits(props: Parameters<typeof Fruits>[0] | { paged: Parameters<typeof PagedFruits>[0]["load"] }) {
  const client = new QueryClient();
  render(
    <QueryClientProvider client={client}>{"paged" in props ? <PagedFruits load={props.paged} /> : <Fruits {...props} />}</QueryClientProvider>,
  );
  return client;
}

const page = (items: Fruit[], total: number, offset = 0): Paged<Fruit> => ({ items, total, limit: 2, offset });

afterEach(cleanup);

describe("PagedTable", () => {
  it("says it is loading while the first page is on its way", () => {
    renderFruits({ load: () => new Promise(() => {}) });
    expect(screen.getByRole("status").textContent).toBe("Loading fruit…");
    expect(screen.queryByRole("table")).toBeNull();
  });

  it("shows a failed query as an alert in words", async () => {
    renderFruits({ load: () => Promise.reject(new ApiError(503, "The shop is busy. Try again in a moment.")) });
    expect((await screen.findByRole("alert")).textContent).toBe("The shop is busy. Try again in a moment.");
    expect(screen.queryByRole("table")).toBeNull();
  });

  it("a failed re-read keeps the rows and says above them that they may be out of date", async () => {
    let fail = false;
    const client = renderFruits({
      load: async () => {
        if (fail) throw new ApiError(503, "The shop is busy. Try again in a moment.");
        return page([{ id: 1, name: "Apple" }, { id: 2, name: "Pear" }], 5);
      },
    });
    await screen.findByRole("row", { name: "Apple" });
    fail = true;
    await act(() => client.refetchQueries());
    // The failure is shown either way; React Query keeps the data but sets isError: the rows (and the pager) stay.
    await screen.findByText(/The shop is busy/);
    expect(screen.getByRole("row", { name: "Apple" })).toBeTruthy();
    expect(screen.getByRole("navigation", { name: "Fruit pages" })).toBeTruthy();
    expect(screen.getByRole("status").textContent).toBe(
      "Could not refresh the fruit, so what is shown may be out of date. The shop is busy. Try again in a moment.",
    );
    // The next re-read that works takes the note away.
    fail = false;
    await act(() => client.refetchQueries());
    await waitFor(() => expect(screen.queryByRole("status")).toBeNull());
  });

  it("a new page that cannot be read says why, with Try again, and keeps the pager to go back by", async () => {
    let fail = true;
    renderFruits({
      paged: async (offset) => {
        if (offset === 2 && fail) throw new ApiError(503, "The shop is busy. Try again in a moment.");
        return offset === 0 ? page([{ id: 1, name: "Apple" }, { id: 2, name: "Pear" }], 3) : page([{ id: 3, name: "Plum" }], 3, 2);
      },
    });
    await screen.findByRole("row", { name: "Apple" });
    const pager = () => screen.getByRole("navigation", { name: "Fruit pages" });
    fireEvent.click(within(pager()).getByRole("button", { name: "Next" }));
    expect((await screen.findByRole("alert")).textContent).toBe("The shop is busy. Try again in a moment.");
    expect(pager().textContent).toContain("Page 2 of 2");
    fireEvent.click(within(pager()).getByRole("button", { name: "Previous" }));
    expect(await screen.findByRole("row", { name: "Apple" })).toBeTruthy();
    fireEvent.click(within(pager()).getByRole("button", { name: "Next" }));
    await screen.findByRole("alert");
    fail = false;
    fireEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByRole("row", { name: "Plum" })).toBeTruthy();
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("shows the empty state, and no table or pager, when the page has no rows", async () => {
    renderFruits({ load: async () => page([], 0) });
    expect(await screen.findByText("No fruit")).toBeTruthy();
    expect(screen.queryByRole("table")).toBeNull();
    expect(screen.queryByRole("navigation")).toBeNull();
  });

  it("renders the header from the columns, one row per item and a pager that moves the offset", async () => {
    const onChange = vi.fn();
    renderFruits({ load: async () => page([{ id: 1, name: "Apple" }, { id: 2, name: "Pear" }], 5), onChange });
    const table = await screen.findByRole("table", { name: "Fruit" });
    const headers = within(table).getAllByRole("columnheader");
    expect(headers.map((h) => h.textContent)).toEqual(["Name", "Id"]);
    expect(headers.map((h) => h.getAttribute("scope"))).toEqual(["col", "col"]);
    expect(headers[1].className).toContain("text-right");
    expect(within(table).getByRole("row", { name: "Apple" })).toBeTruthy();
    expect(within(table).getByRole("row", { name: "Pear" })).toBeTruthy();

    const pager = screen.getByRole("navigation", { name: "Fruit pages" });
    expect(pager.textContent).toContain("1–2 of 5");
    expect(within(pager).getByRole("button", { name: "Previous" }).getAttribute("aria-disabled")).toBe("true");
    fireEvent.click(within(pager).getByRole("button", { name: "Next" }));
    expect(onChange).toHaveBeenCalledWith(2);
  });

  it("shows no pager when everything fits on the first page", async () => {
    renderFruits({ load: async () => page([{ id: 1, name: "Apple" }], 1) });
    await screen.findByRole("row", { name: "Apple" });
    expect(screen.queryByRole("navigation")).toBeNull();
  });
  it("a page left empty past the end (its last row deleted) moves to the last page there is", async () => {
    const onChange = vi.fn();
    renderFruits({ load: async () => page([], 2, 2), offset: 2, onChange });
    await waitFor(() => expect(onChange).toHaveBeenCalledWith(0));
    // Rows exist, on an earlier page: while it moves there the list is not "empty".
    expect(screen.getByRole("status").textContent).toBe("Loading fruit…");
    expect(screen.queryByText("No fruit")).toBeNull();
  });

  it("an empty page whose count says it exists (a delete between the count and the rows) shows the empty state, not endless loading", async () => {
    const onChange = vi.fn();
    renderFruits({ load: async () => page([], 3, 2), offset: 2, onChange });
    expect(await screen.findByText("No fruit")).toBeTruthy();
    expect(onChange).not.toHaveBeenCalled();
  });

  it("an empty first page stays where it is", async () => {
    const onChange = vi.fn();
    renderFruits({ load: async () => page([], 0, 0), onChange });
    expect(await screen.findByText("No fruit")).toBeTruthy();
    expect(onChange).not.toHaveBeenCalled();
  });
});
