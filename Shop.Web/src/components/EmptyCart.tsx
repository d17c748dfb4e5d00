import { Link } from "react-router";
import { EmptyState, PageHeader } from "./ui";

/** What the cart and the checkout show when there is nothing in the cart. */
export function EmptyCart({ title }: { title: string }) {
  return (
    <>
      <PageHeader title={title} />
      <EmptyState title="Your cart is empty">
        <Link to="/catalog" className="font-medium text-indigo-700 hover:underline">
          Browse the catalogue
        </Link>
      </EmptyState>
    </>
  );
}
