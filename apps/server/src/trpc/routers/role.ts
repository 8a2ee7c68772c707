import { z } from "zod";
import { actingUserId } from "../../domain/caller.js";
import { grantRole, listRoleAssignments, revokeRole } from "../../domain/roles.js";
import { fields, id, pageOf, pageWindow, role, roleAssignmentFilters, roleAssignmentOutput } from "../../schemas.js";
import { adminProcedure, router, tenantProcedure } from "../trpc.js";

export const roleRouter = router({
  /** Any member reads their tenant's assignments; a superuser every tenant's, or one's. */
  list: tenantProcedure
    .input(fields(roleAssignmentFilters).default({}))
    .output(z.array(roleAssignmentOutput))
    .query(async ({ ctx, input }) => (await listRoleAssignments(ctx.svc, ctx.scope, input)).results),

  page: tenantProcedure
    .input(fields({ ...roleAssignmentFilters, ...pageWindow }))
    .output(pageOf(roleAssignmentOutput))
    .query(({ ctx, input: { limit, offset, ...filter } }) =>
      listRoleAssignments(ctx.svc, ctx.scope, filter, { limit, offset }),
    ),

  grant: adminProcedure
    .input(fields({ userId: id, role }))
    .output(roleAssignmentOutput)
    .mutation(({ ctx, input }) => grantRole(ctx.svc, ctx.scope, input, actingUserId(ctx.caller))),

  revoke: adminProcedure.input(fields({ id })).mutation(async ({ ctx, input }) => {
    await revokeRole(ctx.svc, ctx.scope, input.id);
  }),
});
