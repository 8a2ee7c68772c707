import { hostname, userInfo } from "node:os";
import type { ParseArgsConfig } from "node:util";
import { type Database, openDatabase, resolveDatabaseTarget } from "@tenantry/db";
import { TRPCError } from "@trpc/server";
import { ZodError, type z } from "zod";
import type { AuditContext } from "../domain/audit.js";
import { DomainError, ValidationFailed } from "../domain/errors.js";
import type { Env } from "../env.js";
import { createLogger } from "../logger.js";
import { createServices, type RunningServices } from "../services.js";
import { createContext, type RequestInfo } from "../trpc/context.js";
import { createCaller } from "../trpc/router.js";
import type { Output } from "./output.js";

/** Wrong words on the command line: exit 2 with the usage. */
export class UsageError extends Error {}

/** What the CLI's changes are recorded as: the command line, run by this OS user on this host. */
const CLI_REQUEST: RequestInfo = {
  token: null,
  ip: null,
  userAgent: `tenantry-cli (${userInfo().username}@${hostname()})`,
};
export const CLI_AUDIT: AuditContext = {
  actor: { type: "cli" },
  client: { ip: CLI_REQUEST.ip, userAgent: CLI_REQUEST.userAgent },
};

export interface CommandContext {
  env: Env;
  out: Output;
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  readSecret(prompt: string): Promise<string>;
}

export interface Command {
  usage: string;
  summary: string;
  options?: NonNullable<ParseArgsConfig["options"]>;
  positionals?: string[];
  run(ctx: CommandContext): Promise<void>;
}

/** Opens the configured database (migrated) for one command and closes it after. */
export async function withDatabase<T>(env: Env, work: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase(resolveDatabaseTarget(env), { poolSize: 2 });
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

export type Api = ReturnType<typeof createCaller>;

/**
 * Runs a command through the API's own procedures (a server-side caller), as
 * the `cli` caller: platform staff, so tenant scoping and role rules are the
 * procedures' own, and every change is recorded as the command line's.
 * `tenant` is the `--tenant` the command was given, for the refusal's words.
 */
export async function withApi<T>(
  ctx: CommandContext,
  work: (api: Api, running: RunningServices) => Promise<T>,
  tenant: string | undefined = option(ctx, "tenant"),
): Promise<T> {
  return withDatabase(ctx.env, async (db) => {
    const running = await createServices(
      ctx.env,
      db,
      createLogger(ctx.env.logLevel === "info" ? "warn" : ctx.env.logLevel, process.stderr),
    );
    try {
      return await work(createCaller(createContext(running.services, CLI_REQUEST, { kind: "operator" })), running);
    } catch (error) {
      throw commandLineError(error, tenant);
    } finally {
      await running.stop();
    }
  });
}

/** Option names on the command line for the procedures' input fields. */
const OPTION_OF: Record<string, string> = { id: "id", userId: "--user", olderThanDays: "--older-than" };

/**
 * A procedure's refusal in the command line's terms: invalid input is a
 * usage error naming the option, a domain error is shown as it is.
 */
function commandLineError(error: unknown, tenant: string | undefined): unknown {
  if (!(error instanceof TRPCError)) return error;
  const cause = error.cause;
  if (cause instanceof ZodError) {
    const issue = cause.issues[0];
    const field = String(issue?.path[0] ?? "input");
    return new UsageError(`${OPTION_OF[field] ?? `--${field}`}: ${issue?.message ?? "invalid"}`);
  }
  if (cause instanceof ValidationFailed && cause.fields.tenant && tenant !== undefined) {
    return new ValidationFailed({ tenant: [`No tenant with the id or slug "${tenant}".`] });
  }
  return cause instanceof DomainError || cause instanceof Error ? cause : error;
}

export function parse<T extends z.ZodType>(schema: T, value: unknown, name: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new UsageError(`${name}: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  return parsed.data;
}

export function option(ctx: CommandContext, name: string): string | undefined {
  const value = ctx.values[name];
  return typeof value === "string" ? value : undefined;
}

/**
 * A word from the command line, handed to a procedure as it is: the
 * procedure's schema parses it as it parses a query string.
 */
export function word(ctx: CommandContext, name: string): never {
  return option(ctx, name) as never;
}
