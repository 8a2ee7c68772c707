import { Link } from "@tanstack/react-router";
import { Page } from "../ui/page.tsx";

export function NotFoundPage() {
  return (
    <Page title="Page not found">
      <p className="text-slate-800">There is no page at this address.</p>
      <Link to="/" className="font-medium text-indigo-800 underline">
        Go to the start page
      </Link>
    </Page>
  );
}

/** What a signed-in person sees on a page their roles do not open (the server refuses the calls too). */
export function ForbiddenPage() {
  return (
    <Page title="Not allowed">
      <p className="text-slate-800">
        Your account cannot open this page. Ask an admin of your tenant if you need access.
      </p>
    </Page>
  );
}
