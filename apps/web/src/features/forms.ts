import { useState } from "react";
import { formErrors, type Problem, toProblem } from "../lib/errors.ts";

/** A form's values, as strings, by field name. */
export function valuesOf(form: HTMLFormElement): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, value] of new FormData(form)) if (typeof value === "string") values[name] = value;
  return values;
}

/** Holds the last problem of a form's submission, split between its fields and the form. */
export function useProblem(fields: readonly string[]) {
  const [problem, setProblem] = useState<Problem | null>(null);
  return {
    problem,
    errors: formErrors(problem, fields),
    fail: (error: unknown) => {
      setProblem(toProblem(error));
      // Keyboard and screen-reader users land on the first field the API refused.
      requestAnimationFrame(() => document.querySelector<HTMLElement>('main [aria-invalid="true"]')?.focus());
    },
    clear: () => setProblem(null),
  };
}
