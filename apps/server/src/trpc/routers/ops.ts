import { z } from "zod";
import { listAuditEvents } from "../../domain/audit-log.js";
import { actingUserId } from "../../domain/caller.js";
import {
  DEFAULT_INVITATION_DAYS,
  extendInvitation,
  listInvitations,
  purgeInvitations,
  resendInvitation,
  revokeInvitation,
} from "../../domain/invitations.js";
import { grantRole, listRoleAssignments, revokeRole } from "../../domain/roles.js";
import { listTenants } from "../../domain/tenants.js";
import { listUsers } from "../../domain/users.js";
import {
  auditEventOutput,
  auditFilters,
  createdInvitationOutput,
  days,
  fields,
  flag,
  id,
  invitationFilters,
  invitationOutput,
  olderThanDays,
  purgeOutput,
  role,
  roleAssignmentFilters,
  roleAssignmentOutput,
  tenantOutput,
  userOutput,
} from "../../schemas.js";
import { router, superuserProcedure } from "../trpc.js";

/**
 * The support engineer's tasks (the old Django admin), for superusers only,
 * through the same domain services as everything else — and so under the
 * same rules, with the same audit events. The CLI calls these procedures.
 */
export const opsRouter = router({
  tenants: superuserProcedure
    .output(z.array(tenantOutput))
    .query(async ({ ctx }) => (await listTenants(ctx.svc, ctx.scope)).results),

  users: superuserProcedure
    .output(z.array(userOutput))
    .query(async ({ ctx }) => (await listUsers(ctx.svc, ctx.scope)).results),

  invitations: superuserProcedure
    .input(fields(invitationFilters).default({}))
    .output(z.array(invitationOutput))
    .query(async ({ ctx, input }) => (await listInvitations(ctx.svc, ctx.scope, input)).results),

  extendInvitation: superuserProcedure
    .input(fields({ id, days: days.optional() }))
    .output(invitationOutput)
    .mutation(({ ctx, input }) =>
      extendInvitation(ctx.svc, ctx.scope, input.id, input.days ?? DEFAULT_INVITATION_DAYS),
    ),

  revokeInvitation: superuserProcedure.input(fields({ id })).mutation(async ({ ctx, input }) => {
    await revokeInvitation(ctx.svc, ctx.scope, input.id);
  }),

  resendInvitation: superuserProcedure
    .input(fields({ id }))
    .output(createdInvitationOutput)
    .mutation(({ ctx, input }) => resendInvitation(ctx.svc, ctx.scope, input.id)),

  /** Deletes invitations expired or revoked more than `olderThanDays` ago (default: the configured retention). */
  purgeInvitations: superuserProcedure
    .input(fields({ olderThanDays: olderThanDays.optional(), dryRun: flag.optional() }).default({}))
    .output(purgeOutput)
    .mutation(({ ctx, input }) =>
      purgeInvitations(ctx.svc, ctx.scope, {
        olderThanDays: input.olderThanDays ?? ctx.services.retentionDays,
        dryRun: input.dryRun ?? false,
      }),
    ),

  roles: superuserProcedure
    .input(fields(roleAssignmentFilters).default({}))
    .output(z.array(roleAssignmentOutput))
    .query(async ({ ctx, input }) => (await listRoleAssignments(ctx.svc, ctx.scope, input)).results),

  grantRole: superuserProcedure
    .input(fields({ userId: id, role }))
    .output(roleAssignmentOutput)
    .mutation(({ ctx, input }) => grantRole(ctx.svc, ctx.scope, input, actingUserId(ctx.caller))),

  revokeRole: superuserProcedure.input(fields({ id })).mutation(async ({ ctx, input }) => {
    await revokeRole(ctx.svc, ctx.scope, input.id);
  }),

  audit: superuserProcedure
    .input(fields(auditFilters).default({}))
    .output(z.array(auditEventOutput))
    .query(async ({ ctx, input }) => (await listAuditEvents(ctx.svc, ctx.scope, input)).results),
});
