/** Codes the server answers with: tRPC's error codes. */
export type ServerErrorCode =
  | "PARSE_ERROR"
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "PAYMENT_REQUIRED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "METHOD_NOT_SUPPORTED"
  | "TIMEOUT"
  | "CONFLICT"
  | "PRECONDITION_FAILED"
  | "PAYLOAD_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "UNPROCESSABLE_CONTENT"
  | "PRECONDITION_REQUIRED"
  | "TOO_MANY_REQUESTS"
  | "CLIENT_CLOSED_REQUEST"
  | "INTERNAL_SERVER_ERROR"
  | "NOT_IMPLEMENTED"
  | "BAD_GATEWAY"
  | "SERVICE_UNAVAILABLE"
  | "GATEWAY_TIMEOUT";

/**
 * Codes for calls that got no usable answer from the server (`status` is 0,
 * except for `INVALID_RESPONSE`, which carries the status that came back):
 * - `NETWORK_ERROR`: the request or its response was lost (DNS, refused or reset connection, offline).
 *   The only failure that is retried, and only for queries.
 * - `ABORTED`: the call's `signal` was aborted.
 * - `TIMEOUT` with `status` 0: the call's `signal` timed out (`AbortSignal.timeout()`).
 *   (`TIMEOUT` with `status` 408 is the server's.)
 * - `INVALID_RESPONSE`: something answered, but not with a Tenantry response (a wrong `baseUrl`, a proxy page).
 * - `CLIENT_ERROR`: the call failed before it was sent (the `token` or `headers` function threw,
 *   the input cannot be encoded as JSON).
 */
export type TransportErrorCode = "NETWORK_ERROR" | "ABORTED" | "TIMEOUT" | "INVALID_RESPONSE" | "CLIENT_ERROR";

export type TenantryErrorCode = ServerErrorCode | TransportErrorCode;

/** What a `TenantryError` is made of. */
export interface TenantryErrorInit {
  code: TenantryErrorCode;
  status: number;
  message: string;
  fieldErrors?: Record<string, string[]>;
  retryAfter?: number;
  authentication?: "missing" | "invalid";
  path?: string;
  cause?: unknown;
}

const BRAND = Symbol.for("@tenantry/sdk:TenantryError");

/**
 * Every failed call rejects with a `TenantryError`. `instanceof` works across
 * the ESM and CJS builds of the SDK, even when both are loaded in one process.
 */
export class TenantryError extends Error {
  /** A tRPC error code, or one of the transport codes (`NETWORK_ERROR`, `ABORTED`, ...). */
  readonly code: TenantryErrorCode;
  /** The HTTP status of the answer; 0 when there was none. */
  readonly status: number;
  /**
   * Messages per input field, keyed by the input's own (camelCase) names;
   * `nonFieldErrors` holds those about the call as a whole. Empty when none.
   */
  readonly fieldErrors: Record<string, string[]>;
  /** Seconds to wait before calling again, on `TOO_MANY_REQUESTS`. */
  declare readonly retryAfter?: number;
  /** On `UNAUTHORIZED`: no credentials were sent (`missing`), or they are not valid (`invalid`). */
  declare readonly authentication?: "missing" | "invalid";
  /** The procedure called, e.g. `invite.create`. */
  declare readonly path?: string;

  constructor(init: TenantryErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "TenantryError";
    this.code = init.code;
    this.status = init.status;
    this.fieldErrors = init.fieldErrors ?? {};
    if (init.retryAfter !== undefined) this.retryAfter = init.retryAfter;
    if (init.authentication !== undefined) this.authentication = init.authentication;
    if (init.path !== undefined) this.path = init.path;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** Recognizes errors made by any copy of the SDK (ESM or CJS). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: a subclass keeps the ordinary prototype check.
    if (this !== TenantryError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }
}

const STATUS_CODES: Record<number, ServerErrorCode> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  402: "PAYMENT_REQUIRED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  405: "METHOD_NOT_SUPPORTED",
  408: "TIMEOUT",
  409: "CONFLICT",
  412: "PRECONDITION_FAILED",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  422: "UNPROCESSABLE_CONTENT",
  428: "PRECONDITION_REQUIRED",
  429: "TOO_MANY_REQUESTS",
  499: "CLIENT_CLOSED_REQUEST",
  500: "INTERNAL_SERVER_ERROR",
  501: "NOT_IMPLEMENTED",
  502: "BAD_GATEWAY",
  503: "SERVICE_UNAVAILABLE",
  504: "GATEWAY_TIMEOUT",
};

/** The code for an HTTP status that came without a tRPC error body. */
export function codeForStatus(status: number): TenantryErrorCode {
  const known = STATUS_CODES[status];
  if (known) return known;
  if (status >= 500) return "INTERNAL_SERVER_ERROR";
  if (status >= 400) return "BAD_REQUEST";
  return "INVALID_RESPONSE";
}

/** A failure found by the SDK's own transport (see `transport.ts`), carried through tRPC as a cause. */
export class TransportFailure extends Error {
  constructor(
    readonly code: TenantryErrorCode,
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "TransportFailure";
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function fieldErrorsOf(value: unknown): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  if (!isRecord(value)) return fields;
  for (const [field, messages] of Object.entries(value)) {
    const list = Array.isArray(messages) ? messages : [messages];
    const strings = list.filter((m): m is string => typeof m === "string");
    if (strings.length) fields[field] = strings;
  }
  return fields;
}

const isAbortError = (value: unknown): boolean =>
  typeof value === "object" && value !== null && (value as { name?: unknown }).name === "AbortError";

/** The error a call rejects with when its signal aborts. */
export function abortError(signal: AbortSignal, path: string): TenantryError {
  const reason: unknown = signal.reason;
  const timedOut = (reason as { name?: unknown } | undefined)?.name === "TimeoutError";
  return new TenantryError({
    code: timedOut ? "TIMEOUT" : "ABORTED",
    status: 0,
    message: timedOut ? `The call to ${path} timed out.` : `The call to ${path} was aborted.`,
    path,
    cause: reason,
  });
}

/**
 * Turns whatever a tRPC call rejected with (a `TRPCClientError` holding the
 * server's error shape, or wrapping a transport failure) into a `TenantryError`.
 */
export function toTenantryError(error: unknown, path: string, signal?: AbortSignal): TenantryError {
  if (error instanceof TenantryError) return error;
  if (signal?.aborted) return abortError(signal, path);

  const clientError = isRecord(error) || error instanceof Error ? (error as Record<string, unknown>) : {};
  const cause = clientError.cause;
  if (cause instanceof TransportFailure) {
    return new TenantryError({
      code: cause.code,
      status: cause.status,
      message: cause.message,
      path,
      cause: cause.cause ?? cause,
    });
  }

  const shape = isRecord(clientError.shape) ? clientError.shape : undefined;
  const data = isRecord(clientError.data) ? clientError.data : isRecord(shape?.data) ? shape.data : undefined;
  const meta = isRecord(clientError.meta) ? clientError.meta : undefined;
  const response = isRecord(meta?.response) ? meta.response : undefined;
  const responseStatus = typeof response?.status === "number" ? response.status : undefined;
  const message =
    typeof shape?.message === "string"
      ? shape.message
      : typeof clientError.message === "string"
        ? clientError.message
        : "The call failed.";

  if (data || shape) {
    // The server's own error: tRPC's shape, with this server's details in `data`.
    const status = typeof data?.httpStatus === "number" ? data.httpStatus : (responseStatus ?? 500);
    const code = typeof data?.code === "string" ? (data.code as TenantryErrorCode) : codeForStatus(status);
    const retryAfter = typeof data?.retryAfter === "number" ? data.retryAfter : undefined;
    const authentication =
      data?.authentication === "missing" || data?.authentication === "invalid" ? data.authentication : undefined;
    return new TenantryError({
      code,
      status,
      message,
      fieldErrors: fieldErrorsOf(data?.fieldErrors),
      ...(retryAfter === undefined ? {} : { retryAfter }),
      ...(authentication === undefined ? {} : { authentication }),
      path,
      cause: error,
    });
  }

  if (responseStatus !== undefined) {
    // An answer came, but not one tRPC could read as a result or an error.
    return new TenantryError({
      code: codeForStatus(responseStatus),
      status: responseStatus,
      message: `The server answered ${responseStatus} without a Tenantry response.`,
      path,
      cause: error,
    });
  }

  if (isAbortError(cause) || isAbortError(error)) {
    return new TenantryError({ code: "ABORTED", status: 0, message: `The call to ${path} was aborted.`, path, cause });
  }
  return new TenantryError({
    code: "CLIENT_ERROR",
    status: 0,
    message: `The call to ${path} could not be made: ${message}`,
    path,
    cause: cause ?? error,
  });
}
