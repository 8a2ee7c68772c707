import type { ReactNode } from "react";
import { describeProblem, toProblem } from "../lib/errors.ts";
import { Alert } from "./alert.tsx";

/** Loading, failure (403, 404, 429 with its wait, ...) and empty states, said the same way on every list. */
export function QueryState<T>({
  query,
  empty,
  isEmpty,
  children,
}: {
  query: { isPending: boolean; error: unknown; data: T | undefined };
  empty: string;
  isEmpty: (data: T) => boolean;
  children: (data: T) => ReactNode;
}) {
  if (query.error) {
    const problem = toProblem(query.error);
    const words =
      problem.code === "FORBIDDEN"
        ? "You do not have access to this. Ask an admin of your tenant."
        : problem.code === "NOT_FOUND"
          ? "Not found. It may have been removed."
          : describeProblem(problem);
    return <Alert tone="error">{words}</Alert>;
  }
  if (query.isPending || query.data === undefined) {
    return (
      <p role="status" className="py-6 text-sm text-slate-700">
        Loading…
      </p>
    );
  }
  if (isEmpty(query.data)) return <p className="py-6 text-sm text-slate-700">{empty}</p>;
  return <>{children(query.data)}</>;
}
