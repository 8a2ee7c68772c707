import { z } from "zod";
import { activateMember, deactivateMember, deleteMember, updateMe } from "../../domain/members.js";
import { listUsers, me } from "../../domain/users.js";
import { fields, flag, id, optionalText, pageOf, pageWindow, userOutput } from "../../schemas.js";
import { adminProcedure, router, sessionProcedure, tenantProcedure } from "../trpc.js";

const filters = { isActive: flag.optional() };

export const userRouter = router({
  me: sessionProcedure.output(userOutput).query(({ ctx }) => me(ctx.caller)),

  /** The caller's own names. */
  updateMe: sessionProcedure
    .input(fields({ firstName: optionalText(150), lastName: optionalText(150) }))
    .output(userOutput)
    .mutation(({ ctx, input }) => updateMe(ctx.svc, ctx.caller, input)),

  /** The users of the caller's tenant; a superuser names the tenant. */
  list: tenantProcedure
    .input(fields(filters).default({}))
    .output(z.array(userOutput))
    .query(async ({ ctx, input }) => (await listUsers(ctx.svc, ctx.scope, undefined, input)).results),

  page: tenantProcedure
    .input(fields({ ...filters, ...pageWindow }))
    .output(pageOf(userOutput))
    .query(({ ctx, input: { limit, offset, isActive } }) =>
      listUsers(ctx.svc, ctx.scope, { limit, offset }, { isActive }),
    ),

  /** Ends every session of the member at once; they cannot log in until activated. */
  deactivate: adminProcedure
    .input(fields({ id }))
    .output(userOutput)
    .mutation(({ ctx, input }) => deactivateMember(ctx.svc, ctx.scope, input.id)),

  activate: adminProcedure
    .input(fields({ id }))
    .output(userOutput)
    .mutation(({ ctx, input }) => activateMember(ctx.svc, ctx.scope, input.id)),

  /** Deletes the member, their role assignments and sessions; audit events stay. */
  remove: adminProcedure.input(fields({ id })).mutation(async ({ ctx, input }) => {
    await deleteMember(ctx.svc, ctx.scope, input.id);
  }),
});
