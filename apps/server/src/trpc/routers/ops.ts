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
import { endSessionsOfUser } from "../../domain/my-sessions.js";
import { sendPasswordReset } from "../../domain/password-resets.js";
import { grantRole, listRoleAssignments, revokeRole } from "../../domain/roles.js";
import { listTenants } from "../../domain/tenants.js";
import { listUsers } from "../../domain/users.js";
import {
  createWebhookEndpoint,
  listWebhookDeliveries,
  listWebhookEndpoints,
  removeWebhookEndpoint,
  testWebhookEndpoint,
} from "../../domain/webhooks.js";
import {
  auditEventOutput,
  auditFilters,
  createdInvitationOutput,
  createdWebhookEndpointOutput,
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
  webhookDeliveryOutput,
  webhookDeliveryStatus,
  webhookEndpointOutput,
  webhookEventTypes,
  webhookUrl,
  wholeNumber,
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

  /** Ends every session of a user at once (a lost laptop, a leaked token); they log in again. */
  endSessions: superuserProcedure
    .input(fields({ userId: id }))
    .output(z.object({ ended: z.number().int() }))
    .mutation(async ({ ctx, input }) => ({ ended: await endSessionsOfUser(ctx.svc, input.userId) })),

  audit: superuserProcedure
    .input(fields(auditFilters).default({}))
    .output(z.array(auditEventOutput))
    .query(async ({ ctx, input }) => (await listAuditEvents(ctx.svc, ctx.scope, input)).results),

  /** Emails a user (by id) a password reset link, as if they had asked; the link is only in the email. */
  sendPasswordReset: superuserProcedure
    .input(fields({ id }))
    .output(
      z.object({
        id: z.string().describe("the reset's id (not its token)"),
        userId: z.string(),
        email: z.string(),
        tenantId: z.string().nullable(),
        expiresAt: z.string(),
      }),
    )
    .mutation(({ ctx, input }) => sendPasswordReset(ctx.svc, ctx.scope, input.id)),

  /** Platform webhook endpoints (API.md, "Events for provisioners"). */
  webhooks: superuserProcedure.output(z.array(webhookEndpointOutput)).query(({ ctx }) => listWebhookEndpoints(ctx.svc)),

  /** Adds an endpoint; its signing secret is in this answer only. */
  createWebhook: superuserProcedure
    .input(fields({ url: webhookUrl, eventTypes: webhookEventTypes.optional() }))
    .output(createdWebhookEndpointOutput)
    .mutation(async ({ ctx, input }) => {
      const created = await createWebhookEndpoint(ctx.svc, ctx.services.webhooks, input);
      ctx.services.webhooks.endpointsChanged();
      return created;
    }),

  removeWebhook: superuserProcedure.input(fields({ id })).mutation(async ({ ctx, input }) => {
    await removeWebhookEndpoint(ctx.svc, input.id);
    ctx.services.webhooks.endpointsChanged();
  }),

  /** Sends a `webhook.tested` event to the endpoint now (once, enabled or not) and answers with the delivery. */
  testWebhook: superuserProcedure
    .input(fields({ id }))
    .output(webhookDeliveryOutput)
    .mutation(async ({ ctx, input }) => {
      const deliveryId = await testWebhookEndpoint(ctx.svc, input.id);
      await ctx.services.webhooks.runOnce(deliveryId);
      const [delivery] = await listWebhookDeliveries(ctx.svc, { deliveryId });
      if (!delivery) throw new Error("the test delivery vanished");
      return delivery;
    }),

  /** An endpoint's deliveries, newest first, with every attempt. */
  webhookDeliveries: superuserProcedure
    .input(
      fields({
        id,
        status: webhookDeliveryStatus.optional(),
        limit: wholeNumber(1, 1000).optional().describe("at most this many (1-1000, default 100)"),
      }),
    )
    .output(z.array(webhookDeliveryOutput))
    .query(({ ctx, input }) =>
      listWebhookDeliveries(ctx.svc, { endpointId: input.id, status: input.status, limit: input.limit }),
    ),
});
