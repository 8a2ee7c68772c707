import { resolve } from "node:path";
import { z } from "zod";

/**
 * The server's configuration, read from the environment in this one place and
 * validated before anything starts. Nothing else reads `process.env`.
 */
const schema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  DATABASE_URL: z
    .string()
    .trim()
    .optional()
    .transform((value) => (value ? value : undefined))
    .pipe(
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
        .optional(),
    ),
  DATA_DIR: z.string().min(1).default(".data"),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  THROTTLE: z.enum(["on", "off"]).default("on"),
  APP_URL: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
  EMAIL_HOOK: z.string().trim().min(1).optional(),
  INVITATION_EMAIL_HOOK: z.string().trim().min(1).optional(),
  SECRET_KEY: z.string().min(32, "must be at least 32 characters").optional(),
  TRUST_PROXY: z
    .string()
    .trim()
    .optional()
    .transform((value, context) => {
      if (!value || value === "false") return false;
      if (value === "true") return true;
      if (/^\d+$/.test(value)) return Number(value);
      if (/^[0-9a-f.:/, ]+$/i.test(value)) return value.split(",").map((part) => part.trim());
      context.addIssue({ code: "custom", message: "must be true, false, a hop count or a list of proxy addresses" });
      return z.NEVER;
    }),
  INVITATION_RETENTION_DAYS: z.coerce.number().int().min(0).max(3650).default(30),
  PURGE_INTERVAL_MINUTES: z.coerce.number().int().min(0).max(10080).default(0),
  WEBHOOK_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(60).default(10),
  ALLOWED_ORIGINS: z
    .string()
    .optional()
    .transform((value) =>
      (value ?? "")
        .split(",")
        .map((origin) => origin.trim().replace(/\/+$/, ""))
        .filter(Boolean),
    )
    .pipe(z.array(z.url({ error: "must be a comma-separated list of origins such as https://app.example.com" }))),
});

export type Env = {
  nodeEnv: "development" | "production" | "test";
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  databasePoolSize: number | undefined;
  logLevel: z.infer<typeof schema>["LOG_LEVEL"];
  throttle: boolean;
  /** Where email links point: `${appUrl}/accept-invite#token=…`, `${appUrl}/reset-password#token=…`. */
  appUrl: string;
  /** The email hook module (`EMAIL_HOOK`, or its older name `INVITATION_EMAIL_HOOK`). */
  emailHook: string | undefined;
  secretKey: string | undefined;
  /** Whether (and which) proxies' X-Forwarded-* headers to believe for client IP and protocol. */
  trustProxy: boolean | number | string[];
  /** Origins besides the server's own allowed to send cookie-authenticated changes. */
  allowedOrigins: string[];
  /** Expired and revoked invitations are purged after this many days. */
  retentionDays: number;
  /** Run the purge in-process every this many minutes; 0 turns the job off. */
  purgeIntervalMinutes: number;
  /** How long one webhook POST may take before it counts as failed. */
  webhookTimeoutSeconds: number;
};

export class InvalidEnvironment extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "InvalidEnvironment";
  }
}

export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    throw new InvalidEnvironment(parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`));
  }
  const env = parsed.data;
  return {
    nodeEnv: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    databaseUrl: env.DATABASE_URL,
    dataDir: resolve(env.DATA_DIR),
    databasePoolSize: env.DATABASE_POOL_SIZE,
    logLevel: env.LOG_LEVEL,
    throttle: env.THROTTLE === "on",
    appUrl: (env.APP_URL ?? `http://${env.HOST.includes(":") ? `[${env.HOST}]` : env.HOST}:${env.PORT}`).replace(
      /\/+$/,
      "",
    ),
    emailHook: env.EMAIL_HOOK ?? env.INVITATION_EMAIL_HOOK,
    secretKey: env.SECRET_KEY,
    trustProxy: env.TRUST_PROXY,
    allowedOrigins: env.ALLOWED_ORIGINS,
    retentionDays: env.INVITATION_RETENTION_DAYS,
    purgeIntervalMinutes: env.PURGE_INTERVAL_MINUTES,
    webhookTimeoutSeconds: env.WEBHOOK_TIMEOUT_SECONDS,
  };
}
