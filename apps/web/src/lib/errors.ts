import { TRPCClientError } from "@trpc/client";

/** What the console needs of any failed call, from the API's own error shape. */
export interface Problem {
  /** tRPC's code (`BAD_REQUEST`, `UNAUTHORIZED`, `FORBIDDEN`, `NOT_FOUND`, `TOO_MANY_REQUESTS`, ...), or `NETWORK`. */
  code: string;
  /** The API's message, in its own words. */
  message: string;
  /** Messages per input field (camelCase), `nonFieldErrors` for the request as a whole. */
  fieldErrors: Record<string, string[]>;
  /** Seconds to wait, when the server said so. */
  retryAfter?: number;
}

interface ErrorData {
  code?: string;
  fieldErrors?: Record<string, string[]>;
  retryAfter?: number;
}

const NETWORK = "The server cannot be reached. Check your connection and try again.";

export function toProblem(error: unknown): Problem {
  if (error instanceof TRPCClientError) {
    const data = (error.data ?? {}) as ErrorData;
    if (!data.code) return { code: "NETWORK", message: NETWORK, fieldErrors: {} };
    return {
      code: data.code,
      message: error.message,
      fieldErrors: data.fieldErrors ?? {},
      ...(data.retryAfter !== undefined ? { retryAfter: data.retryAfter } : {}),
    };
  }
  return { code: "NETWORK", message: NETWORK, fieldErrors: {} };
}

export const isUnauthenticated = (error: unknown) => toProblem(error).code === "UNAUTHORIZED";

/** A sentence for the whole problem: the wait when throttled, the API's words otherwise. */
export function describeProblem(problem: Problem): string {
  if (problem.code === "TOO_MANY_REQUESTS") {
    const wait = problem.retryAfter;
    return wait === undefined
      ? "Too many attempts. Wait a moment, then try again."
      : `Too many attempts. Try again in ${wait} second${wait === 1 ? "" : "s"}.`;
  }
  if (problem.code === "FORBIDDEN") return "You do not have permission to do this.";
  return problem.message;
}

/**
 * Splits a problem between a form's fields and the form as a whole: messages
 * for fields the form shows go next to them; everything else (fields it does
 * not show, `nonFieldErrors`, a problem with no field) is said once at the top.
 */
export function formErrors(
  problem: Problem | null,
  shown: readonly string[],
): { fields: Record<string, string>; form: string | null } {
  if (!problem) return { fields: {}, form: null };
  const fields: Record<string, string> = {};
  const rest: string[] = [];
  for (const [field, messages] of Object.entries(problem.fieldErrors)) {
    if (shown.includes(field)) fields[field] = messages.join(" ");
    else rest.push(...messages);
  }
  const form = rest.length ? rest.join(" ") : Object.keys(fields).length ? null : describeProblem(problem);
  return { fields, form };
}
