import { Link } from "react-router";
import { PageHeader } from "../components/ui";

export default function NotFoundPage() {
  return (
    <div className="max-w-xl">
      <PageHeader title="Page not found" subtitle="The page you are looking for does not exist." />
      <Link to="/catalog" className="text-sm font-medium text-indigo-700 hover:underline">
        Go to the catalogue
      </Link>
    </div>
  );
}
