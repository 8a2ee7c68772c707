import { initTRPC, TRPCError } from "@trpc/server";
import { ZodError } from "zod";
import { type AuthenticatedCaller, isStaff, type SessionCaller, type TenantScope } from "../domain/caller.js";
import { Forbidden, Unauthenticated, ValidationFailed } from "../domain/errors.js";
import { findTenantByRef } from "../domain/tenants.js";
import { fields, tenantRef } from "../schemas.js";
import type { ThrottleRule } from "../throttle.js";
import { DRF } from "../wording.js";
import { type Context, serviceContext } from "./context.js";
import { describeFieldErrors, errorDetails, toTRPCError } from "./errors.js";

/**
 * The only `initTRPC` in the codebase, and the role middleware: every
 * procedure is built on one of the procedures below, which carry
 * authentication, tenant scoping and role checks. Routers never check these.
 */
const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    const { stack: _stack, ...data } = shape.data;
    const details = errorDetails(error);
    // Internal failures say nothing about their cause; invalid input says what is wrong in words.
    const message =
      error.code === "INTERNAL_SERVER_ERROR"
        ? DRF.serverError
        : error.cause instanceof ZodError
          ? describeFieldErrors(details.fieldErrors)
          : shape.message;
    return { ...shape, message, data: { ...data, ...details } };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/**
 * The base of every procedure, one middleware (each step of tRPC's chain
 * copies the call's options and context): domain errors (and an unreachable
 * database) become tRPC errors here, in one place; after a change is
 * committed, the webhook worker is told (deliveries may have been enqueued
 * with it); and the domain sees an anonymous caller until `authedProcedure`
 * says who calls.
 */
export const publicProcedure = t.procedure.use(async ({ ctx, type, next }) => {
  const result = await next({ ctx: { svc: serviceContext(ctx, { kind: "anonymous" }) } });
  if (result.ok) {
    if (type === "mutation") ctx.services.webhooks.changed();
    return result;
  }
  const mapped = toTRPCError(result.error.cause);
  if (mapped?.code === "SERVICE_UNAVAILABLE") {
    ctx.services.logger.warn({ err: result.error.cause }, "the database cannot be reached");
  }
  if (mapped) throw mapped;
  return result;
});

/** Counts the call against throttle rules, keyed by client IP or by a field of the input. */
export function throttled(rules: { rule: ThrottleRule; by: "ip" | ((input: unknown) => string | undefined) }[]) {
  return t.middleware(async ({ ctx, input, next }) => {
    for (const { rule, by } of rules) {
      const subject = by === "ip" ? (ctx.request.ip ?? "unknown") : by(input);
      if (subject) await ctx.services.throttle.hit(rule, subject);
    }
    return next();
  });
}

export const authedProcedure = publicProcedure.use(async ({ ctx, next }) => {
  const caller = await ctx.resolveCaller();
  if (caller.kind === "anonymous") throw new Unauthenticated("missing");
  return next({ ctx: { caller: caller as AuthenticatedCaller, svc: serviceContext(ctx, caller) } });
});

/** Callers who logged in (`me`, `logout`); the CLI is no user and has no session. */
export const sessionProcedure = authedProcedure.use(async ({ ctx, next }) => {
  if (ctx.caller.kind === "operator") throw new Forbidden();
  return next({ ctx: { caller: ctx.caller as SessionCaller } });
});

const NO_TENANT = (ref: string) => `Invalid tenant "${ref}" - object does not exist.`;

/**
 * Scopes the call to a tenant. A member is always scoped to their own tenant:
 * naming another tenant is ignored by reads and refused for changes. Staff
 * (a superuser, the CLI) name a tenant by id or slug, or none (every tenant).
 */
export const tenantProcedure = authedProcedure
  .input(fields({ tenant: tenantRef.optional() }).default({}))
  .use(async ({ ctx, input, type, next }) => {
    const named = input.tenant;
    let scope: TenantScope;
    if (isStaff(ctx.caller)) {
      if (named === undefined) scope = { tenantId: null };
      else {
        const tenant = await findTenantByRef(ctx.em, named);
        if (!tenant) throw ValidationFailed.field("tenant", NO_TENANT(named));
        scope = { tenantId: tenant.id };
      }
    } else {
      const own = ctx.caller.user.tenantId;
      if (named !== undefined && type === "mutation") {
        const tenant = await findTenantByRef(ctx.em, named);
        if (tenant?.id !== own) throw new Forbidden();
      }
      scope = { tenantId: own };
    }
    return next({ ctx: { scope } });
  });

/** Tenant ADMINs of the scoped tenant, and staff. */
export const adminProcedure = tenantProcedure.use(async ({ ctx, next }) => {
  if (ctx.caller.kind === "member" && !ctx.caller.user.roles.includes("ADMIN")) throw new Forbidden();
  return next();
});

/** Platform staff only (superusers, the CLI), scoped to the tenant they name (by id or slug) or to every tenant. */
export const superuserProcedure = tenantProcedure.use(async ({ ctx, next }) => {
  if (!isStaff(ctx.caller)) throw new Forbidden();
  return next({ ctx: { caller: ctx.caller } });
});

export { TRPCError };
