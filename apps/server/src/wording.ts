/**
 * The API's fixed words, DRF's, in one place for every transport: the REST
 * shim answers with them, and tRPC says the same where it refuses alike
 * (the Origin rule, an internal failure).
 */
export const DRF = {
  notAuthenticated: "Authentication credentials were not provided.",
  invalidToken: "Invalid token.",
  forbidden: "You do not have permission to perform this action.",
  notFound: "Not found.",
  serverError: "A server error occurred.",
  serviceUnavailable: "Service temporarily unavailable.",
  csrf: "CSRF Failed: Origin checking failed.",
  methodNotAllowed: (method: string) => `Method "${method}" not allowed.`,
  unsupportedMediaType: (type: string) => `Unsupported media type "${type}" in request.`,
  parseError: (reason: string) => `JSON parse error - ${reason}`,
  tooLarge: "Request body is larger than 65536 bytes.",
} as const;
