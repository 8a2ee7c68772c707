/**
 * The domain's failures. Services throw these and know nothing of HTTP; each
 * transport maps them once (tRPC in trpc/errors.ts, REST through tRPC).
 */
export type FieldErrors = Record<string, string[]>;

/** The key for messages about the request as a whole (DRF's `non_field_errors`). */
export const NON_FIELD = "nonFieldErrors";

export abstract class DomainError extends Error {
  abstract readonly kind:
    | "validation"
    | "invalid"
    | "unauthenticated"
    | "forbidden"
    | "not_found"
    | "throttled"
    | "unavailable";
}

/** Input that breaks a rule, with messages per field. */
export class ValidationFailed extends DomainError {
  readonly kind = "validation";
  constructor(readonly fields: FieldErrors) {
    super(Object.values(fields).flat().join(" ") || "Invalid input.");
    this.name = "ValidationFailed";
  }

  static field(field: string, message: string): ValidationFailed {
    return new ValidationFailed({ [field]: [message] });
  }
}

/** A request that cannot be carried out as a whole, not tied to one field (DRF's `{"detail": …}` 400). */
export class InvalidRequest extends DomainError {
  readonly kind = "invalid";
  constructor(message: string) {
    super(message);
    this.name = "InvalidRequest";
  }
}

export class Unauthenticated extends DomainError {
  readonly kind = "unauthenticated";
  constructor(readonly reason: "missing" | "invalid") {
    super(reason === "missing" ? "Authentication credentials were not provided." : "Invalid token.");
    this.name = "Unauthenticated";
  }
}

export class Forbidden extends DomainError {
  readonly kind = "forbidden";
  constructor(message = "You do not have permission to perform this action.") {
    super(message);
    this.name = "Forbidden";
  }
}

/** Also what a caller gets for another tenant's object: it never learns that it exists. */
export class NotFound extends DomainError {
  readonly kind = "not_found";
  constructor(message = "Not found.") {
    super(message);
    this.name = "NotFound";
  }
}

export class Throttled extends DomainError {
  readonly kind = "throttled";
  constructor(readonly retryAfterSeconds: number) {
    super(`Request was throttled. Expected available in ${retryAfterSeconds} seconds.`);
    this.name = "Throttled";
  }
}

/** The database cannot be reached: an outage, not a fault of the request; worth a retry later. */
export class ServiceUnavailable extends DomainError {
  readonly kind = "unavailable";
  constructor(
    cause: unknown,
    readonly retryAfterSeconds = 5,
  ) {
    super("Service temporarily unavailable.", { cause });
    this.name = "ServiceUnavailable";
  }
}

/** Appends messages under a field, creating its list on first use. */
export function addFieldErrors(fields: FieldErrors, field: string, ...messages: string[]): void {
  if (messages.length === 0) return;
  const list = fields[field];
  if (list) list.push(...messages);
  else fields[field] = [...messages];
}

/** Collects field messages, then throws them all at once. */
export class FieldErrorCollector {
  private readonly fields: FieldErrors = {};

  add(field: string, ...messages: string[]): void {
    addFieldErrors(this.fields, field, ...messages);
  }

  throwIfAny(): void {
    if (Object.keys(this.fields).length) throw new ValidationFailed(this.fields);
  }
}
