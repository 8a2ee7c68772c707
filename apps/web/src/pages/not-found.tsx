import { Link } from "@tanstack/react-router";
import { describeProblem, toProblem } from "../lib/errors.ts";
import { Button } from "../ui/button.tsx";
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

/** A page that could not load (the server unreachable, say), with the reason and a way to try again. */
export function ErrorPage({ error, retry }: { error: unknown; retry: () => void }) {
  return (
    <Page title="This page could not load">
      <p className="text-slate-800">{describeProblem(toProblem(error))}</p>
      <Button onClick={retry}>Try again</Button>
    </Page>
  );
}
