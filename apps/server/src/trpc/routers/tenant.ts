import { z } from "zod";
import { type AuthenticatedCaller, isStaff, type TenantScope } from "../../domain/caller.js";
import { createTenant, getTenant, listTenants } from "../../domain/tenants.js";
import {
  createdTenantOutput,
  email,
  fields,
  optionalText,
  pageOf,
  pageWindow,
  password,
  requiredText,
  tenantOutput,
  tenantRef,
} from "../../schemas.js";
import { THROTTLE_RULES } from "../../throttle.js";
import { authedProcedure, publicProcedure, router, throttled } from "../trpc.js";

/** Tenants are the one thing a member sees only their own of, whatever they name. */
const ownScope = (caller: AuthenticatedCaller): TenantScope => ({
  tenantId: isStaff(caller) ? null : caller.user.tenantId,
});

export const tenantRouter = router({
  /** Self-service sign-up: the tenant and its first ADMIN. */
  create: publicProcedure
    .use(throttled([{ rule: THROTTLE_RULES.tenantCreatePerIp, by: "ip" }]))
    .input(
      fields({
        name: requiredText(200),
        adminEmail: email,
        adminPassword: password,
        adminFirstName: optionalText(150),
        adminLastName: optionalText(150),
      }),
    )
    .output(createdTenantOutput)
    .mutation(({ ctx, input }) => createTenant(ctx.svc, input)),

  /** The caller's own tenant; every tenant for a superuser. */
  list: authedProcedure
    .output(z.array(tenantOutput))
    .query(async ({ ctx }) => (await listTenants(ctx.svc, ownScope(ctx.caller))).results),

  /** `list`, a window at a time, with the total. */
  page: authedProcedure
    .input(fields(pageWindow))
    .output(pageOf(tenantOutput))
    .query(({ ctx, input }) => listTenants(ctx.svc, ownScope(ctx.caller), input)),

  get: authedProcedure
    .input(fields({ id: tenantRef }))
    .output(tenantOutput)
    .query(({ ctx, input }) => getTenant(ctx.svc, ownScope(ctx.caller), input.id)),
});
