import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { type Database, openDatabase } from "@tenantry/db";
import { createTestDatabase, type TestBackend, type TestDatabase } from "@tenantry/db/testing";
import { ManualClock } from "../domain/clock.js";
import { createSuperuser } from "../domain/users.js";
import { loadEnv } from "../env.js";
import { createLogger } from "../logger.js";
import type { InvitationEmail, InvitationEmailHook, PasswordResetEmail, PasswordResetEmailHook } from "../mail/hook.js";
import { createServices, type RunningServices } from "../services.js";
import { createContext, type RequestInfo } from "../trpc/context.js";
import { createCaller } from "../trpc/router.js";

export type Caller = ReturnType<typeof createCaller>;

export interface HarnessOptions {
  backend?: TestBackend;
  /** Replaces the recording email hook (which records every email in `emails`). */
  hook?: InvitationEmailHook;
  /** Replaces the recording password reset hook (which records every email in `resetEmails`). */
  resetHook?: PasswordResetEmailHook;
  retryDelaysMs?: number[];
  webhookRetryDelaysMs?: number[];
  webhookTimeoutMs?: number;
  throttle?: boolean;
}

/**
 * The whole service without HTTP: a fresh database, the real services with a
 * manual clock, a recording email hook and a captured log, and tRPC callers
 * that act as a given client (token, IP).
 */
export interface Harness {
  db: Database;
  testDb: TestDatabase;
  clock: ManualClock;
  running: RunningServices;
  /** Every email the default test hook received, in order. */
  emails: InvitationEmail[];
  /** Every password reset email the default test hook received, in order. */
  resetEmails: PasswordResetEmail[];
  /** Every log line written, as parsed JSON. */
  logLines(): Record<string, unknown>[];
  /** Every SQL statement sent since the last `resetQueries()`. */
  queries: string[];
  resetQueries(): void;
  /** A tRPC caller for an anonymous client, or one holding `token`. */
  call(token?: string | null, client?: Partial<Omit<RequestInfo, "token">>): Caller;
  /** Runs the email outbox once, as the background worker would. */
  deliverEmails(): Promise<number>;
  /** Runs webhook delivery passes until nothing is due, as the background worker would; returns how many it sent. */
  deliverWebhooks(): Promise<number>;
  close(): Promise<void>;
}

export const STRONG_PASSWORD = "correct-Horse-battery-9";

export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  const testDb = await createTestDatabase(options.backend);
  const queries: string[] = [];
  const db = await openDatabase(testDb.target, { poolSize: 8, onQuery: (sql) => queries.push(sql) });
  // At MANUAL_CLOCK_START, not at the time of the run. The database's own clock never
  // decides anything (every timestamp and expiry comes from this clock).
  const clock = new ManualClock();
  const emails: InvitationEmail[] = [];
  const resetEmails: PasswordResetEmail[] = [];
  const logText: string[] = [];
  const logger = createLogger(
    "debug",
    new Writable({
      write(chunk, _encoding, done) {
        logText.push(chunk.toString());
        done();
      },
    }) as unknown as Parameters<typeof createLogger>[1],
  );
  const env = loadEnv({
    NODE_ENV: "test",
    THROTTLE: options.throttle === false ? "off" : "on",
    DATA_DIR: "/nonexistent",
  });
  const running = await createServices(env, db, logger, {
    clock,
    key: randomBytes(32),
    retryDelaysMs: options.retryDelaysMs,
    webhookRetryDelaysMs: options.webhookRetryDelaysMs,
    webhookTimeoutMs: options.webhookTimeoutMs,
    hook:
      options.hook ??
      ((email) => {
        emails.push(email);
      }),
    resetHook:
      options.resetHook ??
      ((email) => {
        resetEmails.push(email);
      }),
  });
  return {
    db,
    testDb,
    clock,
    running,
    emails,
    resetEmails,
    logLines: () =>
      logText
        .join("")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line)),
    queries,
    resetQueries: () => {
      queries.length = 0;
    },
    call(token = null, client = {}) {
      // A fresh context per call, as each HTTP request gets: nothing is cached between calls.
      return createCaller(() =>
        createContext(running.services, {
          token,
          ip: client.ip ?? "203.0.113.7",
          userAgent: client.userAgent ?? "vitest",
        }),
      );
    },
    deliverEmails: () => running.delivery.runOnce(),
    async deliverWebhooks() {
      let total = 0;
      for (let handled = await running.webhooks.runOnce(); handled > 0; handled = await running.webhooks.runOnce()) {
        total += handled;
      }
      return total;
    },
    async close() {
      await running.stop();
      await db.close();
      await testDb.drop();
    },
  };
}

let counter = 0;
/** A name no other test in this run uses. */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}

/** Signs a tenant up and logs its admin in. */
export async function signUp(h: Harness, name = unique("Tenant")) {
  const adminEmail = `admin@${name.toLowerCase()}.example.com`;
  const tenant = await h.call().tenant.create({ name, adminEmail, adminPassword: STRONG_PASSWORD });
  const { token } = await h.call().auth.login({ email: adminEmail, password: STRONG_PASSWORD });
  return { tenant, adminEmail, adminId: tenant.adminUserId, adminToken: token, admin: h.call(token) };
}

/** Invites an address into the admin's tenant, accepts it and logs the new user in. */
export async function addMember(
  h: Harness,
  admin: Caller,
  email: string,
  role: "ADMIN" | "ANALYST" | "VIEWER" | null,
  tenant?: string,
) {
  const invitation = await admin.invite.create({ email, role, tenant });
  const user = await h.call().invite.accept({ token: invitation.token, password: STRONG_PASSWORD });
  const { token } = await h.call().auth.login({ email, password: STRONG_PASSWORD, tenant: user.tenantId ?? undefined });
  return { user, token, caller: h.call(token) };
}

/** Creates a superuser the way the CLI does, and logs them in. */
export async function superuser(h: Harness) {
  const email = `${unique("staff")}@platform.example.com`;
  const user = await createSuperuser(
    {
      em: h.db.orm.em.fork(),
      clock: h.clock,
      audit: { actor: { type: "cli" }, client: { ip: null, userAgent: "vitest" } },
    },
    { email, password: STRONG_PASSWORD },
  );
  const { token } = await h.call().auth.login({ email, password: STRONG_PASSWORD });
  return { user, token, caller: h.call(token) };
}
