import { initTRPC, TRPCError } from "@trpc/server";
import { ZodError } from "zod";
import { type AuthenticatedCaller, isStaff, type SessionCaller, type TenantScope } from "../domain/caller.js";
import type { ServiceContext } from "../domain/context.js";
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
 * Domain errors (and an unreachable database) become tRPC errors here, in one
 * place: those the procedure's base raised itself, and those that came back
 * from the rest of the chain.
 */
function mapped(ctx: Context, cause: unknown): TRPCError | undefined {
  const error = toTRPCError(cause);
  if (error?.code === "SERVICE_UNAVAILABLE") ctx.services.logger.warn({ err: cause }, "the database cannot be reached");
  return error;
}

/**
 * The base of every procedure, as one middleware (each step of tRPC's chain
 * copies the call's options and context, so the ladder below is built of as
 * few as it can be): it finds out who calls (`identify`, which may refuse),
 * maps domain errors, and after a change is committed tells the webhook
 * worker (deliveries may have been enqueued with it).
 */
function baseProcedure<Who extends { svc: ServiceContext }>(identify: (ctx: Context) => Promise<Who> | Who) {
  return t.procedure.use(async ({ ctx, type, next }) => {
    let who: Who;
    try {
      who = await identify(ctx);
    } catch (cause) {
      throw mapped(ctx, cause) ?? cause;
    }
    const result = await next({ ctx: who });
    if (result.ok) {
      if (type === "mutation") ctx.services.webhooks.changed();
      return result;
    }
    const error = mapped(ctx, result.error.cause);
    if (error) throw error;
    return result;
  });
}

/** Anyone; the domain sees an anonymous caller. */
export const publicProcedure = baseProcedure((ctx) => ({ svc: serviceContext(ctx, { kind: "anonymous" }) }));

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

async function authenticated(ctx: Context): Promise<{ caller: AuthenticatedCaller; svc: ServiceContext }> {
  const caller = await ctx.resolveCaller();
  if (caller.kind === "anonymous") throw new Unauthenticated("missing");
  return { caller, svc: serviceContext(ctx, caller) };
}

/** Callers with a valid session, and the CLI. */
export const authedProcedure = baseProcedure(authenticated);

/** Callers who logged in (`me`, `logout`); the CLI is no user and has no session. */
export const sessionProcedure = baseProcedure(async (ctx) => {
  const { caller, svc } = await authenticated(ctx);
  if (caller.kind === "operator") throw new Forbidden();
  return { caller: caller as SessionCaller, svc };
});

const NO_TENANT = (ref: string) => `Invalid tenant "${ref}" - object does not exist.`;

/**
 * Scopes the call to a tenant. A member is always scoped to their own tenant:
 * naming another tenant is ignored by reads and refused for changes. Staff
 * (a superuser, the CLI) name a tenant by id or slug, or none (every tenant).
 */
async function scopeOf(
  ctx: Context,
  caller: AuthenticatedCaller,
  named: string | undefined,
  type: string,
): Promise<TenantScope> {
  if (isStaff(caller)) {
    if (named === undefined) return { tenantId: null };
    const tenant = await findTenantByRef(ctx.em, named);
    if (!tenant) throw ValidationFailed.field("tenant", NO_TENANT(named));
    return { tenantId: tenant.id };
  }
  const own = caller.user.tenantId;
  if (named !== undefined && type === "mutation") {
    const tenant = await findTenantByRef(ctx.em, named);
    if (tenant?.id !== own) throw new Forbidden();
  }
  return { tenantId: own };
}

/** Authenticated, then the optional `tenant` input read, then scoped, then `allowed` asked; one step after the base. */
function scopedProcedure<C extends AuthenticatedCaller>(allowed: (caller: AuthenticatedCaller) => caller is C) {
  return authedProcedure
    .input(fields({ tenant: tenantRef.optional() }).default({}))
    .use(async ({ ctx, input, type, next }) => {
      const scope = await scopeOf(ctx, ctx.caller, input.tenant, type);
      if (!allowed(ctx.caller)) throw new Forbidden();
      return next({ ctx: { caller: ctx.caller as C, scope } });
    });
}

/** Members of the scoped tenant, and staff. */
export const tenantProcedure = scopedProcedure((_caller): _caller is AuthenticatedCaller => true);

/** Tenant ADMINs of the scoped tenant, and staff. */
export const adminProcedure = scopedProcedure(
  (caller): caller is AuthenticatedCaller => caller.kind !== "member" || caller.user.roles.includes("ADMIN"),
);

/** Platform staff only (superusers, the CLI), scoped to the tenant they name (by id or slug) or to every tenant. */
export const superuserProcedure = scopedProcedure(isStaff);

export { TRPCError };
