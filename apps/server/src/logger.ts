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
