import { hostname, userInfo } from "node:os";
import type { ParseArgsConfig } from "node:util";
import { type Database, openDatabase, resolveDatabaseTarget } from "@tenantry/db";
import { TRPCError } from "@trpc/server";
import { ZodError, type z } from "zod";
import type { AuditContext } from "../domain/audit.js";
import { systemClock } from "../domain/clock.js";
import { DomainError, ValidationFailed } from "../domain/errors.js";
import { DEFAULT_INVITATION_DAYS } from "../domain/invitations.js";
import { createSuperuser } from "../domain/users.js";
import type { Env } from "../env.js";
import { createLogger } from "../logger.js";
import { email } from "../schemas.js";
import { createServices, type RunningServices } from "../services.js";
import { createContext, type RequestInfo } from "../trpc/context.js";
import { createCaller } from "../trpc/router.js";
import { type Output, render, renderOne } from "./output.js";

/** Wrong words on the command line: exit 2 with the usage. */
export class UsageError extends Error {}

/** What the CLI's changes are recorded as: the command line, run by this OS user on this host. */
const CLI_REQUEST: RequestInfo = {
  token: null,
  ip: null,
  userAgent: `tenantry-cli (${userInfo().username}@${hostname()})`,
};
const CLI_AUDIT: AuditContext = {
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
async function withDatabase<T>(env: Env, work: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase(resolveDatabaseTarget(env), { poolSize: 2 });
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

type Api = ReturnType<typeof createCaller>;

/**
 * Runs a command through the API's own procedures (a server-side caller), as
 * the `cli` caller: platform staff, so tenant scoping and role rules are the
 * procedures' own, and every change is recorded as the command line's.
 * `tenant` is the `--tenant` the command was given, for the refusal's words.
 */
async function withApi<T>(
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

function parse<T extends z.ZodType>(schema: T, value: unknown, name: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new UsageError(`${name}: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  return parsed.data;
}

function option(ctx: CommandContext, name: string): string | undefined {
  const value = ctx.values[name];
  return typeof value === "string" ? value : undefined;
}

/**
 * A word from the command line, handed to a procedure as it is: the
 * procedure's schema parses it as it parses a query string.
 */
function word(ctx: CommandContext, name: string): never {
  return option(ctx, name) as never;
}

const tenantOption = { tenant: { type: "string" } } as const;

export const COMMANDS: Record<string, Command> = {
  migrate: {
    usage: "migrate",
    summary: "apply pending database migrations",
    async run({ env, out }) {
      const db = await openDatabase(resolveDatabaseTarget(env), { migrate: false, poolSize: 1 });
      try {
        const applied = await db.migrate();
        renderOne(
          out,
          { database: db.description, applied },
          applied.length ? `Applied ${applied.length} migration(s).` : "Up to date.",
        );
      } finally {
        await db.close();
      }
    },
  },

  createsuperuser: {
    usage: "createsuperuser --email E [--password P] [--first-name F] [--last-name L]",
    summary: "create a platform superuser (of no tenant); without --password it is read from stdin",
    options: {
      email: { type: "string" },
      password: { type: "string" },
      "first-name": { type: "string" },
      "last-name": { type: "string" },
    },
    async run(ctx) {
      const address = parse(email, option(ctx, "email"), "--email");
      const password = option(ctx, "password") ?? (await ctx.readSecret("Password: "));
      const user = await withDatabase(ctx.env, (db) =>
        createSuperuser(
          { em: db.orm.em.fork(), clock: systemClock, audit: CLI_AUDIT },
          { email: address, password, firstName: option(ctx, "first-name"), lastName: option(ctx, "last-name") },
        ),
      );
      renderOne(ctx.out, { id: user.id, email: user.email }, `Superuser ${user.email} created (id ${user.id}).`);
    },
  },

  "tenants list": {
    usage: "tenants list",
    summary: "every tenant",
    async run(ctx) {
      const tenants = await withApi(ctx, (api) => api.ops.tenants());
      render(ctx.out, tenants, [
        ["ID", (t) => t.id],
        ["SLUG", (t) => t.slug],
        ["NAME", (t) => t.name],
        ["CREATED", (t) => t.createdAt],
      ]);
    },
  },

  "users list": {
    usage: "users list --tenant <id|slug>",
    summary: "the users of a tenant, with their roles",
    options: tenantOption,
    async run(ctx) {
      const ref = option(ctx, "tenant");
      if (!ref) throw new UsageError("--tenant is required");
      const users = await withApi(ctx, (api) => api.ops.users({ tenant: ref }));
      render(ctx.out, users, [
        ["ID", (u) => u.id],
        ["EMAIL", (u) => u.email],
        ["NAME", (u) => `${u.firstName} ${u.lastName}`.trim()],
        ["ROLES", (u) => u.roles],
        ["JOINED", (u) => u.dateJoined],
      ]);
    },
  },

  "invites list": {
    usage: "invites list [--tenant <id|slug>] [--status pending|accepted|expired|revoked]",
    summary: "invitations, never with tokens",
    options: { ...tenantOption, status: { type: "string" } },
    async run(ctx) {
      const invitations = await withApi(ctx, (api) =>
        api.ops.invitations({ tenant: option(ctx, "tenant"), status: word(ctx, "status") }),
      );
      render(ctx.out, invitations, [
        ["ID", (i) => i.id],
        ["TENANT", (i) => i.tenantId],
        ["EMAIL", (i) => i.email],
        ["ROLE", (i) => i.role],
        ["STATUS", (i) => i.status],
        ["EXPIRES", (i) => i.expiresAt],
        ["EMAIL DELIVERY", (i) => i.emailDelivery],
      ]);
    },
  },

  "invites extend": {
    usage: "invites extend <id> [--days N]",
    summary: `make a pending or expired invitation pending until now + N days (1-30, default ${DEFAULT_INVITATION_DAYS})`,
    positionals: ["id"],
    options: { days: { type: "string" } },
    async run(ctx) {
      const invitation = await withApi(ctx, (api) =>
        api.ops.extendInvitation({ id: ctx.positionals[0] as string, days: word(ctx, "days") }),
      );
      renderOne(
        ctx.out,
        { ...invitation },
        `Invitation ${invitation.id} for ${invitation.email} now expires ${invitation.expiresAt}.`,
      );
    },
  },

  "invites revoke": {
    usage: "invites revoke <id>",
    summary: "revoke an invitation; its token stops working",
    positionals: ["id"],
    async run(ctx) {
      const invitationId = ctx.positionals[0] as string;
      await withApi(ctx, (api) => api.ops.revokeInvitation({ id: invitationId }));
      renderOne(ctx.out, { id: invitationId, status: "revoked" }, `Invitation ${invitationId} revoked.`);
    },
  },

  "invites resend": {
    usage: "invites resend <id>",
    summary: "send a pending or expired invitation again: new token and expiry, email hook runs now",
    positionals: ["id"],
    async run(ctx) {
      const invitation = await withApi(ctx, async (api, running) => {
        const resent = await api.ops.resendInvitation({ id: ctx.positionals[0] as string });
        // Only the invitation this command touched: other emails are the server's to deliver.
        const delivery = await running.delivery.deliverNow(resent.id);
        return { ...resent, emailDelivery: delivery ?? resent.emailDelivery };
      });
      // The token goes to the invitee by email; the command line shows it only to scripts that ask.
      const { token, ...shown } = invitation;
      renderOne(
        ctx.out,
        ctx.out.json ? invitation : shown,
        `Invitation ${invitation.id} re-sent to ${invitation.email} (email ${invitation.emailDelivery}); it expires ${invitation.expiresAt}.`,
      );
      void token;
    },
  },

  "invites purge-expired": {
    usage: "invites purge-expired [--older-than 30d] [--dry-run] [--tenant <id|slug>]",
    summary: "delete invitations expired or revoked longer ago than the retention (default INVITATION_RETENTION_DAYS)",
    options: { ...tenantOption, "older-than": { type: "string" }, "dry-run": { type: "boolean" } },
    async run(ctx) {
      const given = option(ctx, "older-than");
      const match = given === undefined ? undefined : /^\s*(\d+)\s*d?\s*$/.exec(given);
      if (given !== undefined && !match) throw new UsageError("--older-than: give days, e.g. 30d or 30");
      const olderThanDays = match ? Number(match[1]) : ctx.env.retentionDays;
      const dryRun = ctx.values["dry-run"] === true;
      const result = await withApi(ctx, (api) =>
        api.ops.purgeInvitations({ tenant: option(ctx, "tenant"), olderThanDays, dryRun }),
      );
      renderOne(
        ctx.out,
        { ...result, olderThanDays },
        dryRun
          ? `Dry run: ${result.purged} invitation(s) expired or revoked before ${result.cutoff} would be purged.`
          : `Purged ${result.purged} invitation(s) expired or revoked before ${result.cutoff}.`,
      );
    },
  },

  "roles list": {
    usage: "roles list [--tenant <id|slug>] [--user <id>] [--role ADMIN|ANALYST|VIEWER]",
    summary: "role assignments",
    options: { ...tenantOption, user: { type: "string" }, role: { type: "string" } },
    async run(ctx) {
      const assignments = await withApi(ctx, (api) =>
        api.ops.roles({ tenant: option(ctx, "tenant"), userId: option(ctx, "user"), role: word(ctx, "role") }),
      );
      render(ctx.out, assignments, [
        ["ID", (a) => a.id],
        ["TENANT", (a) => a.tenantId],
        ["USER", (a) => a.userId],
        ["ROLE", (a) => a.role],
        ["GRANTED BY", (a) => a.grantedById],
        ["CREATED", (a) => a.createdAt],
      ]);
    },
  },

  "roles grant": {
    usage: "roles grant --user <id> --role ADMIN|ANALYST|VIEWER",
    summary: "grant a role to a user (in the user's tenant)",
    options: { user: { type: "string" }, role: { type: "string" } },
    async run(ctx) {
      const assignment = await withApi(ctx, (api) =>
        api.ops.grantRole({ userId: word(ctx, "user"), role: word(ctx, "role") }),
      );
      renderOne(ctx.out, { ...assignment }, `Granted ${assignment.role} to ${assignment.userId}.`);
    },
  },

  "roles revoke": {
    usage: "roles revoke <assignment id>",
    summary: "revoke a role assignment (a tenant's last ADMIN stays)",
    positionals: ["id"],
    async run(ctx) {
      const assignmentId = ctx.positionals[0] as string;
      await withApi(ctx, (api) => api.ops.revokeRole({ id: assignmentId }));
      renderOne(ctx.out, { id: assignmentId, revoked: true }, `Role assignment ${assignmentId} revoked.`);
    },
  },

  "audit list": {
    usage: "audit list [--tenant <id|slug>] [--since T] [--until T] [--action A] [--actor X] [--limit N]",
    summary: "the audit trail, newest first (T: 2026-11-29 or an ISO 8601 instant; X: user id or email, cli, system)",
    options: {
      ...tenantOption,
      since: { type: "string" },
      until: { type: "string" },
      action: { type: "string" },
      actor: { type: "string" },
      limit: { type: "string" },
    },
    async run(ctx) {
      const limitText = option(ctx, "limit") ?? "100";
      if (!/^\d+$/.test(limitText) || Number(limitText) < 1) throw new UsageError("--limit: a whole number from 1");
      // `audit.page`, the tenant routers' own: the trail a window at a time, with its total.
      const page = await withApi(ctx, (api) =>
        api.audit.page({
          tenant: option(ctx, "tenant"),
          since: option(ctx, "since"),
          until: option(ctx, "until"),
          action: word(ctx, "action"),
          actor: option(ctx, "actor"),
          limit: Math.min(Number(limitText), 1000),
          offset: 0,
        }),
      );
      render(
        ctx.out,
        page.results,
        [
          ["WHEN", (e) => e.occurredAt],
          ["ACTION", (e) => e.action],
          ["ACTOR", (e) => e.actorEmail ?? e.actorType],
          ["TENANT", (e) => e.tenantId],
          ["TARGET", (e) => (e.targetId ? `${e.targetType}:${e.targetId}` : null)],
          ["DETAILS", (e) => e.details],
        ],
        page,
      );
    },
  },
};
