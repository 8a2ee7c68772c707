import { z } from "zod";
import { type BulkRow, inviteMany } from "../../domain/bulk-invites.js";
import { actingUserId } from "../../domain/caller.js";
import { previewInvitation } from "../../domain/invitation-landing.js";
import {
  acceptInvitation,
  DEFAULT_INVITATION_DAYS,
  extendInvitation,
  inviteUser,
  listInvitations,
  listInvitationsByCursor,
  resendInvitation,
  revokeInvitation,
} from "../../domain/invitations.js";
import {
  bulkInvitationRow,
  bulkInvitations,
  bulkInviteOutput,
  createdInvitationOutput,
  cursorPageOf,
  cursorWindow,
  days,
  email,
  fields,
  id,
  invitationFilters,
  invitationOutput,
  invitationPreviewOutput,
  optionalText,
  pageOf,
  pageWindow,
  password,
  role,
  token,
  userOutput,
} from "../../schemas.js";
import { THROTTLE_RULES } from "../../throttle.js";
import { zodFieldErrors } from "../errors.js";
import { adminProcedure, publicProcedure, router, throttled } from "../trpc.js";

export const inviteRouter = router({
  /** Returns the invitation with its token, this once; the email hook is called after commit. */
  create: adminProcedure
    .input(fields({ email, role: role.nullable().optional() }))
    .output(createdInvitationOutput)
    .mutation(({ ctx, input }) =>
      inviteUser(ctx.svc, ctx.scope, { email: input.email, role: input.role ?? null }, actingUserId(ctx.caller)),
    ),

  /** Up to 100 invites, each created and mailed as a single invite; a bad row never stops the others. */
  bulk: adminProcedure
    .input(fields({ invitations: bulkInvitations }))
    .output(bulkInviteOutput)
    .mutation(({ ctx, input }) =>
      inviteMany(ctx.svc, ctx.scope, input.invitations.map(bulkRow), actingUserId(ctx.caller)),
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

  /** A page at a time by cursor (DRF's CursorPagination): pass `next` or `previous` back as `cursor`. */
  cursor: adminProcedure
    .input(fields({ ...invitationFilters, ...cursorWindow }))
    .output(cursorPageOf(invitationOutput))
    .query(({ ctx, input: { cursor, limit, ...filter } }) =>
      listInvitationsByCursor(ctx.svc, ctx.scope, filter, { cursor, limit }),
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

  /** What the accept page shows for a token; changes nothing. A mutation, so the token never rides in a URL. */
  preview: publicProcedure
    .use(throttled([{ rule: THROTTLE_RULES.previewPerIp, by: "ip" }]))
    .input(fields({ token }))
    .output(invitationPreviewOutput)
    .mutation(({ ctx, input }) => previewInvitation(ctx.svc, input.token)),

  /** Anyone holding a token; creates the user in the inviting tenant. */
  accept: publicProcedure
    .use(throttled([{ rule: THROTTLE_RULES.acceptPerIp, by: "ip" }]))
    .input(fields({ token, password, firstName: optionalText(150), lastName: optionalText(150) }))
    .output(userOutput)
    .mutation(({ ctx, input }) => acceptInvitation(ctx.svc, input)),
});

/** A row as given, checked on its own: valid input, or its field errors. */
function bulkRow(row: unknown): BulkRow {
  const parsed = bulkInvitationRow.safeParse(row);
  if (parsed.success) return { email: parsed.data.email, role: parsed.data.role ?? null };
  const given = (row as { email?: unknown } | null)?.email;
  return { email: typeof given === "string" ? given : "", errors: zodFieldErrors(parsed.error) };
}
