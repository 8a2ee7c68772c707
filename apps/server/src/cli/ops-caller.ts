import { hostname, userInfo } from "node:os";
import { TRPCError } from "@trpc/server";
import { ZodError } from "zod";
import type { UserRecord } from "../domain/caller.js";
import { DomainError } from "../domain/errors.js";
import type { AppServices, Context } from "../trpc/context.js";
import { createCaller } from "../trpc/router.js";

/** Wrong words on the command line: exit 2 with the usage. */
export class UsageError extends Error {}

/**
 * The command line acts as a platform superuser of no tenant. It has no
 * session and no user row: this stands in for the caller, and every change it
 * makes is recorded as the command line's (`cli`), never as a user's.
 */
const CLI_OPERATOR: UserRecord = {
  id: "00000000-0000-0000-0000-000000000000",
  tenantId: null,
  email: "tenantry-cli",
  firstName: "",
  lastName: "",
  isSuperuser: true,
  isActive: true,
  dateJoined: new Date(0).toISOString(),
  roles: [],
};

/** A server-side tRPC caller for the CLI: the `ops` procedures, their rules and audit events, unchanged. */
export function cliCaller(services: AppServices) {
  return createCaller((): Context => {
    const caller = Promise.resolve({ kind: "superuser" as const, user: CLI_OPERATOR, sessionId: "cli" });
    return {
      services,
      em: services.orm.em.fork(),
      request: { token: null, ip: null, userAgent: `tenantry-cli (${userInfo().username}@${hostname()})` },
      resolveCaller: () => caller,
      resolvedCaller: () => caller,
      recordSession: () => {},
      sessionChange: () => undefined,
      actor: { type: "cli" },
    };
  });
}

/** A procedure's failure as the CLI reports it: a rule's refusal (exit 1) or bad input (exit 2). */
export async function unwrapped<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof TRPCError && error.cause instanceof DomainError) throw error.cause;
    if (error instanceof TRPCError && error.cause instanceof ZodError) {
      const issue = error.cause.issues[0];
      throw new UsageError(`${issue?.path.join(".") || "input"}: ${issue?.message ?? "invalid"}`);
    }
    throw error;
  }
}
