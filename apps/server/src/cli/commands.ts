import { hostname, userInfo } from "node:os";
import type { ParseArgsConfig } from "node:util";
import { type Database, openDatabase, resolveDatabaseTarget } from "@tenantry/db";
import type { z } from "zod";
import type { AuditContext } from "../domain/audit.js";
import { listAuditEvents } from "../domain/audit-log.js";
import type { TenantScope } from "../domain/caller.js";
import { systemClock } from "../domain/clock.js";
import type { ServiceContext } from "../domain/context.js";
import { ValidationFailed } from "../domain/errors.js";
import {
  DEFAULT_INVITATION_DAYS,
  extendInvitation,
  listInvitations,
  purgeInvitations,
  resendInvitation,
  revokeInvitation,
} from "../domain/invitations.js";
import { activateMember, deactivateMember, deleteMember } from "../domain/members.js";
import { endSessionsOfUser } from "../domain/my-sessions.js";
import { grantRole, listRoleAssignments, revokeRole } from "../domain/roles.js";
import { findTenantByRef, listTenants } from "../domain/tenants.js";
import { createSuperuser, listUsers } from "../domain/users.js";
import type { Env } from "../env.js";
import { createLogger } from "../logger.js";
import { createServices } from "../services.js";
import { auditAction, days, email, id, instant, invitationStatus, role, tenantRef } from "../trpc/schemas.js";
import { UsageError, unwrapped } from "./ops-caller.js";
import { type Output, render, renderOne } from "./output.js";
import { WEBHOOK_COMMANDS, withOps } from "./webhooks.js";

export { UsageError };

/** What the CLI's changes are recorded as: the command line, run by this OS user on this host. */
const CLI_AUDIT: AuditContext = {
  actor: { type: "cli" },
  client: { ip: null, userAgent: `tenantry-cli (${userInfo().username}@${hostname()})` },
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

/** The domain's context for a CLI command: every tenant is in scope, changes are the CLI's. */
async function withServices<T>(
  env: Env,
  work: (svc: ServiceContext, db: Database, deliverNow: (invitationId: string) => Promise<number>) => Promise<T>,
): Promise<T> {
  return withDatabase(env, async (db) => {
    const running = await createServices(
      env,
      db,
      createLogger(env.logLevel === "info" ? "warn" : env.logLevel, process.stderr),
    );
    const svc: ServiceContext = {
      em: db.orm.em.fork(),
      clock: systemClock,
      mailbox: running.delivery,
      audit: CLI_AUDIT,
    };
    try {
      // Only the invitation this command touched: other emails are the server's to deliver.
      return await work(svc, db, (invitationId) => running.delivery.runOnce(invitationId));
    } finally {
      await running.stop();
    }
  });
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

async function scopeOf(svc: ServiceContext, ref: string | undefined): Promise<TenantScope> {
  if (ref === undefined) return { tenantId: null };
  const tenant = await findTenantByRef(svc.em, parse(tenantRef, ref, "--tenant"));
  if (!tenant) throw new ValidationFailed({ tenant: [`No tenant with the id or slug "${ref}".`] });
  return { tenantId: tenant.id };
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
      const page = await withServices(ctx.env, (svc) => listTenants(svc, { tenantId: null }));
      render(ctx.out, page.results, [
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
      const page = await withServices(ctx.env, async (svc) => {
        const scope = await scopeOf(svc, ref);
        return listUsers(svc, scope.tenantId as string);
      });
      render(ctx.out, page.results, [
        ["ID", (u) => u.id],
        ["EMAIL", (u) => u.email],
        ["NAME", (u) => `${u.firstName} ${u.lastName}`.trim()],
        ["ROLES", (u) => u.roles],
        ["JOINED", (u) => u.dateJoined],
      ]);
    },
  },

  "users deactivate": {
    usage: "users deactivate <user id>",
    summary: "deactivate a member: every session ends, login is refused (a tenant's last active ADMIN stays)",
    positionals: ["id"],
    async run(ctx) {
      const userId = parse(id, ctx.positionals[0], "id");
      const user = await withServices(ctx.env, (svc) => deactivateMember(svc, { tenantId: null }, userId));
      renderOne(ctx.out, { ...user }, `User ${user.email} (${user.id}) deactivated.`);
    },
  },

  "users activate": {
    usage: "users activate <user id>",
    summary: "let a deactivated member log in again",
    positionals: ["id"],
    async run(ctx) {
      const userId = parse(id, ctx.positionals[0], "id");
      const user = await withServices(ctx.env, (svc) => activateMember(svc, { tenantId: null }, userId));
      renderOne(ctx.out, { ...user }, `User ${user.email} (${user.id}) activated.`);
    },
  },

  "users reset-password": {
    usage: "users reset-password <user id>",
    summary: "email a user a one-time password reset link (valid 60 minutes), as if they had asked",
    positionals: ["id"],
    async run(ctx) {
      const userId = parse(id, ctx.positionals[0], "id");
      const reset = await withOps(ctx.env, async (ops, running) => {
        const sent = await unwrapped(ops.sendPasswordReset({ id: userId }));
        // Only this email: the others are the server's to deliver.
        await running.delivery.runOnce(sent.id);
        return sent;
      });
      renderOne(
        ctx.out,
        { ...reset },
        `Password reset link sent to ${reset.email} (user ${reset.userId}); it works once, until ${reset.expiresAt}.`,
      );
    },
  },

  "users remove": {
    usage: "users remove <user id>",
    summary: "delete a member with their roles and sessions; audit events stay (a tenant's last active ADMIN stays)",
    positionals: ["id"],
    async run(ctx) {
      const userId = parse(id, ctx.positionals[0], "id");
      await withServices(ctx.env, (svc) => deleteMember(svc, { tenantId: null }, userId));
      renderOne(ctx.out, { id: userId, removed: true }, `User ${userId} removed.`);
    },
  },

  "sessions revoke": {
    usage: "sessions revoke --user <user id>",
    summary: "end every session of a user at once",
    options: { user: { type: "string" } },
    async run(ctx) {
      const userId = parse(id, option(ctx, "user"), "--user");
      const ended = await withServices(ctx.env, (svc) => endSessionsOfUser(svc, userId));
      renderOne(ctx.out, { userId, ended }, `Ended ${ended} session(s) of ${userId}.`);
    },
  },

  "invites list": {
    usage: "invites list [--tenant <id|slug>] [--status pending|accepted|expired|revoked]",
    summary: "invitations, never with tokens",
    options: { ...tenantOption, status: { type: "string" } },
    async run(ctx) {
      const status = option(ctx, "status");
      const filter = { status: status === undefined ? undefined : parse(invitationStatus, status, "--status") };
      const page = await withServices(ctx.env, async (svc) =>
        listInvitations(svc, await scopeOf(svc, option(ctx, "tenant")), filter),
      );
      render(ctx.out, page.results, [
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
      const invitationId = parse(id, ctx.positionals[0], "id");
      const count = option(ctx, "days");
      const n = count === undefined ? DEFAULT_INVITATION_DAYS : parse(days, count, "--days");
      const invitation = await withServices(ctx.env, (svc) =>
        extendInvitation(svc, { tenantId: null }, invitationId, n),
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
      const invitationId = parse(id, ctx.positionals[0], "id");
      await withServices(ctx.env, (svc) => revokeInvitation(svc, { tenantId: null }, invitationId));
      renderOne(ctx.out, { id: invitationId, status: "revoked" }, `Invitation ${invitationId} revoked.`);
    },
  },

  "invites resend": {
    usage: "invites resend <id>",
    summary: "send a pending or expired invitation again: new token and expiry, email hook runs now",
    positionals: ["id"],
    async run(ctx) {
      const invitationId = parse(id, ctx.positionals[0], "id");
      const invitation = await withServices(ctx.env, async (svc, db, deliverNow) => {
        const resent = await resendInvitation(svc, { tenantId: null }, invitationId);
        await deliverNow(invitationId);
        const row = await db.orm.em
          .fork()
          .getConnection()
          .execute<{ email_delivery: string }[]>("select email_delivery from invitations where id = ?", [invitationId]);
        return { ...resent, emailDelivery: row[0]?.email_delivery ?? resent.emailDelivery };
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
      const result = await withServices(ctx.env, async (svc) =>
        purgeInvitations(svc, await scopeOf(svc, option(ctx, "tenant")), { olderThanDays, dryRun }),
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
      const user = option(ctx, "user");
      const roleName = option(ctx, "role");
      const filter = {
        userId: user === undefined ? undefined : parse(id, user, "--user"),
        role: roleName === undefined ? undefined : parse(role, roleName, "--role"),
      };
      const page = await withServices(ctx.env, async (svc) =>
        listRoleAssignments(svc, await scopeOf(svc, option(ctx, "tenant")), filter),
      );
      render(ctx.out, page.results, [
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
      const input = {
        userId: parse(id, option(ctx, "user"), "--user"),
        role: parse(role, option(ctx, "role"), "--role"),
      };
      const assignment = await withServices(ctx.env, (svc) => grantRole(svc, { tenantId: null }, input, null));
      renderOne(ctx.out, { ...assignment }, `Granted ${assignment.role} to ${assignment.userId}.`);
    },
  },

  "roles revoke": {
    usage: "roles revoke <assignment id>",
    summary: "revoke a role assignment (a tenant's last ADMIN stays)",
    positionals: ["id"],
    async run(ctx) {
      const assignmentId = parse(id, ctx.positionals[0], "id");
      await withServices(ctx.env, (svc) => revokeRole(svc, { tenantId: null }, assignmentId));
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
      const since = option(ctx, "since");
      const until = option(ctx, "until");
      const action = option(ctx, "action");
      const limitText = option(ctx, "limit") ?? "100";
      if (!/^\d+$/.test(limitText) || Number(limitText) < 1) throw new UsageError("--limit: a whole number from 1");
      const filter = {
        since: since === undefined ? undefined : parse(instant, since, "--since"),
        until: until === undefined ? undefined : parse(instant, until, "--until"),
        action: action === undefined ? undefined : parse(auditAction, action, "--action"),
        actor: option(ctx, "actor"),
      };
      const page = await withServices(ctx.env, async (svc) =>
        listAuditEvents(svc, await scopeOf(svc, option(ctx, "tenant")), filter, {
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

  ...WEBHOOK_COMMANDS,
};
