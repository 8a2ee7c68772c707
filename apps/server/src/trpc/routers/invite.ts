import { z } from "zod";
import { actingUserId } from "../../domain/caller.js";
import {
  acceptInvitation,
  DEFAULT_INVITATION_DAYS,
  extendInvitation,
  inviteUser,
  listInvitations,
  resendInvitation,
  revokeInvitation,
} from "../../domain/invitations.js";
import {
  createdInvitationOutput,
  days,
  email,
  fields,
  id,
  invitationFilters,
  invitationOutput,
  optionalText,
  pageOf,
  pageWindow,
  password,
  role,
  token,
  userOutput,
} from "../../schemas.js";
import { THROTTLE_RULES } from "../../throttle.js";
import { adminProcedure, publicProcedure, router, throttled } from "../trpc.js";

export const inviteRouter = router({
  /** Returns the invitation with its token, this once; the email hook is called after commit. */
  create: adminProcedure
    .input(fields({ email, role: role.nullable().optional() }))
    .output(createdInvitationOutput)
    .mutation(({ ctx, input }) =>
      inviteUser(ctx.svc, ctx.scope, { email: input.email, role: input.role ?? null }, actingUserId(ctx.caller)),
    ),

  /** Never with tokens. */
  list: adminProcedure
    .input(fields(invitationFilters).default({}))
    .output(z.array(invitationOutput))
    .query(async ({ ctx, input }) => (await listInvitations(ctx.svc, ctx.scope, input)).results),

  page: adminProcedure
    .input(fields({ ...invitationFilters, ...pageWindow }))
    .output(pageOf(invitationOutput))
    .query(({ ctx, input: { limit, offset, ...filter } }) =>
      listInvitations(ctx.svc, ctx.scope, filter, { limit, offset }),
    ),

  revoke: adminProcedure.input(fields({ id })).mutation(async ({ ctx, input }) => {
    await revokeInvitation(ctx.svc, ctx.scope, input.id);
  }),

  extend: adminProcedure
    .input(fields({ id, days: days.optional() }))
    .output(invitationOutput)
    .mutation(({ ctx, input }) =>
      extendInvitation(ctx.svc, ctx.scope, input.id, input.days ?? DEFAULT_INVITATION_DAYS),
    ),

  /** A new token and expiry; the old token stops working and the email hook runs again. */
  resend: adminProcedure
    .input(fields({ id }))
    .output(createdInvitationOutput)
    .mutation(({ ctx, input }) => resendInvitation(ctx.svc, ctx.scope, input.id)),

  /** Anyone holding a token; creates the user in the inviting tenant. */
  accept: publicProcedure
    .use(throttled([{ rule: THROTTLE_RULES.acceptPerIp, by: "ip" }]))
    .input(fields({ token, password, firstName: optionalText(150), lastName: optionalText(150) }))
    .output(userOutput)
    .mutation(({ ctx, input }) => acceptInvitation(ctx.svc, input)),
});
