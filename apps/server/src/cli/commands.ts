import { openDatabase, resolveDatabaseTarget } from "@tenantry/db";
import { systemClock } from "../domain/clock.js";
import { DEFAULT_INVITATION_DAYS } from "../domain/invitations.js";
import { createSuperuser } from "../domain/users.js";
import { email, id } from "../schemas.js";
import {
  CLI_AUDIT,
  type Command,
  type CommandContext,
  option,
  parse,
  UsageError,
  withApi,
  withDatabase,
  word,
} from "./api.js";
import { render, renderOne } from "./output.js";
import { WEBHOOK_COMMANDS } from "./webhooks.js";

export { type Command, type CommandContext, UsageError };

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

  "users deactivate": {
    usage: "users deactivate <user id>",
    summary: "deactivate a member: every session ends, login is refused (a tenant's last active ADMIN stays)",
    positionals: ["id"],
    async run(ctx) {
      const user = await withApi(ctx, (api) => api.user.deactivate({ id: ctx.positionals[0] as never }));
      renderOne(ctx.out, { ...user }, `User ${user.email} (${user.id}) deactivated.`);
    },
  },

  "users activate": {
    usage: "users activate <user id>",
    summary: "let a deactivated member log in again",
    positionals: ["id"],
    async run(ctx) {
      const user = await withApi(ctx, (api) => api.user.activate({ id: ctx.positionals[0] as never }));
      renderOne(ctx.out, { ...user }, `User ${user.email} (${user.id}) activated.`);
    },
  },

  "users reset-password": {
    usage: "users reset-password <user id>",
    summary: "email a user a one-time password reset link (valid 60 minutes), as if they had asked",
    positionals: ["id"],
    async run(ctx) {
      const userId = parse(id, ctx.positionals[0], "id");
      const reset = await withApi(ctx, async (api, running) => {
        const sent = await api.ops.sendPasswordReset({ id: userId });
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
      await withApi(ctx, (api) => api.user.remove({ id: userId }));
      renderOne(ctx.out, { id: userId, removed: true }, `User ${userId} removed.`);
    },
  },

  "sessions revoke": {
    usage: "sessions revoke --user <user id>",
    summary: "end every session of a user at once",
    options: { user: { type: "string" } },
    async run(ctx) {
      const userId = parse(id, option(ctx, "user"), "--user");
      const { ended } = await withApi(ctx, (api) => api.ops.endSessions({ userId }));
      renderOne(ctx.out, { userId, ended }, `Ended ${ended} session(s) of ${userId}.`);
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

  ...WEBHOOK_COMMANDS,
};
