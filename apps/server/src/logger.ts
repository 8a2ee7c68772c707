import { type DestinationStream, type Logger, pino } from "pino";

/**
 * Structured JSON lines. Credentials never reach a log line: headers are not
 * logged, and anything under these keys is censored should it ever be passed.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "tenantry" },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: serializeError },
      redact: {
        paths: [
          "password",
          "*.password",
          "token",
          "*.token",
          "authorization",
          "*.authorization",
          "cookie",
          "*.cookie",
          "headers.authorization",
          "headers.cookie",
        ],
        censor: "[redacted]",
      },
    },
    destination,
  );
}

export type { Logger };

/**
 * Database errors quote the failing statement with its values (password
 * hashes, token hashes) and the failing row: keep only what identifies them.
 */
export function serializeError(error: unknown): Record<string, unknown> {
  const fields = error as { code?: unknown; constraint?: string; table?: string; column?: string; name?: string };
  const isDatabaseError = typeof fields.code === "string" && /^[0-9A-Z]{5}$/.test(fields.code);
  if (isDatabaseError) {
    return {
      type: fields.name ?? "DatabaseError",
      message: "database error (statement and values not logged)",
      sqlState: fields.code,
      constraint: fields.constraint,
      table: fields.table,
      column: fields.column,
    };
  }
  return pino.stdSerializers.err(error as Error) as unknown as Record<string, unknown>;
}
