import { z } from "zod";
import { listUsers, me } from "../../domain/users.js";
import { fields, pageOf, pageWindow, userOutput } from "../../schemas.js";
import { router, sessionProcedure, tenantProcedure } from "../trpc.js";

export const userRouter = router({
  me: sessionProcedure.output(userOutput).query(({ ctx }) => me(ctx.caller)),

  /** The users of the caller's tenant; a superuser names the tenant. */
  list: tenantProcedure
    .output(z.array(userOutput))
    .query(async ({ ctx }) => (await listUsers(ctx.svc, ctx.scope)).results),

  page: tenantProcedure
    .input(fields(pageWindow))
    .output(pageOf(userOutput))
    .query(({ ctx, input }) => listUsers(ctx.svc, ctx.scope, input)),
});
