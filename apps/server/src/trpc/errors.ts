import { TRPCError } from "@trpc/server";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import { ZodError } from "zod";
import { isDatabaseUnavailable } from "../domain/db-errors.js";
import {
  addFieldErrors,
  DomainError,
  type FieldErrors,
  NON_FIELD,
  ServiceUnavailable,
  Throttled,
  Unauthenticated,
  ValidationFailed,
} from "../domain/errors.js";

/** The one mapping from domain failures to tRPC errors. */
const CODES: Record<DomainError["kind"], TRPC_ERROR_CODE_KEY> = {
  validation: "BAD_REQUEST",
  invalid: "BAD_REQUEST",
  unauthenticated: "UNAUTHORIZED",
  forbidden: "FORBIDDEN",
  not_found: "NOT_FOUND",
  throttled: "TOO_MANY_REQUESTS",
  unavailable: "SERVICE_UNAVAILABLE",
};

/** A domain failure as a tRPC error (an unreachable database is one); undefined for anything else (a bug: 500). */
export function toTRPCError(error: unknown): TRPCError | undefined {
  const failure =
    error instanceof DomainError ? error : isDatabaseUnavailable(error) ? new ServiceUnavailable(error) : undefined;
  return failure && new TRPCError({ code: CODES[failure.kind], message: failure.message, cause: failure });
}

/** What every error carries in `data` besides tRPC's own fields. */
export interface ErrorDetails {
  /** Messages per input field (camelCase); `nonFieldErrors` for the request as a whole. Empty when none. */
  fieldErrors: FieldErrors;
  /** Seconds until a throttled call, or one refused while the database is unreachable, may be retried. */
  retryAfter?: number;
  /** Why authentication failed: no credentials, or credentials that are not valid. */
  authentication?: "missing" | "invalid";
}

export function errorDetails(error: TRPCError): ErrorDetails {
  const cause = error.cause;
  if (cause instanceof ValidationFailed) return { fieldErrors: cause.fields };
  if (cause instanceof ZodError) return { fieldErrors: zodFieldErrors(cause) };
  if (cause instanceof Throttled || cause instanceof ServiceUnavailable) {
    return { fieldErrors: {}, retryAfter: cause.retryAfterSeconds };
  }
  if (cause instanceof Unauthenticated) return { fieldErrors: {}, authentication: cause.reason };
  return { fieldErrors: {} };
}

export function zodFieldErrors(error: ZodError): FieldErrors {
  const fields: FieldErrors = {};
  for (const issue of error.issues) {
    const [field] = issue.path;
    if (field === undefined) addFieldErrors(fields, NON_FIELD, issue.message);
    else addFieldErrors(fields, String(field), issue.message);
  }
  return fields;
}

/** `email: Enter a valid email address. role: "x" is not a valid choice.` */
export function describeFieldErrors(fields: FieldErrors): string {
  const parts = Object.entries(fields).map(([field, messages]) =>
    field === NON_FIELD ? messages.join(" ") : `${field}: ${messages.join(" ")}`,
  );
  return parts.join(" ") || "Invalid input.";
}

/** The `Retry-After` (seconds) a response carrying these errors should have, if any of them says when. */
export function retryAfterOf(errors: TRPCError[]): string | undefined {
  const seconds = errors.map((error) => errorDetails(error).retryAfter).filter((value) => value !== undefined);
  return seconds.length ? String(Math.max(...seconds)) : undefined;
}
