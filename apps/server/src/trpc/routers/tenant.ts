import { z } from "zod";
import { createTenant, getTenant, listTenants } from "../../domain/tenants.js";
import { THROTTLE_RULES } from "../../throttle.js";
import {
  createdTenantOutput,
  email,
  optionalText,
  password,
  requiredText,
  tenantOutput,
  tenantRef,
} from "../schemas.js";
import { authedProcedure, publicProcedure, router, throttled } from "../trpc.js";

export const tenantRouter = router({
  /** Self-service sign-up: the tenant and its first ADMIN. */
  create: publicProcedure
    .use(throttled([{ rule: THROTTLE_RULES.tenantCreatePerIp, by: "ip" }]))
    .input(
      z.object({
        name: requiredText(200),
        adminEmail: email,
        adminPassword: password,
        adminFirstName: optionalText(150),
        adminLastName: optionalText(150),
      }),
    )
    .output(createdTenantOutput)
    .mutation(({ ctx, input }) => createTenant({ em: ctx.em, clock: ctx.services.clock }, input)),

  /** The caller's own tenant; every tenant for a superuser. */
  list: authedProcedure
    .output(z.array(tenantOutput))
    .query(({ ctx }) =>
      listTenants(ctx, { tenantId: ctx.caller.kind === "superuser" ? null : ctx.caller.user.tenantId }),
    ),

  get: authedProcedure
    .input(z.object({ id: tenantRef }))
    .output(tenantOutput)
    .query(({ ctx, input }) =>
      getTenant(ctx, { tenantId: ctx.caller.kind === "superuser" ? null : ctx.caller.user.tenantId }, input.id),
    ),
});
