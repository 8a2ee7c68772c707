/**
 * Helmet's hook sets these on every answer a route gives; answers given before
 * any route runs (a malformed URL, a request Node's parser refuses) get them
 * from here. The values are helmet's defaults: security.test.ts checks that both
 * kinds of answer carry the same.
 */
export const SECURITY_HEADERS = {
  "strict-transport-security": "max-age=31536000; includeSubDomains",
  "x-content-type-options": "nosniff",
  "x-frame-options": "SAMEORIGIN",
} as const;
