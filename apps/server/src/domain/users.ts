import { hashPassword, passwordProblems } from "@tenantry/auth";
import { recordAudit } from "./audit.js";
import type { SessionCaller, TenantScope } from "./caller.js";
import type { ServiceContext } from "./context.js";
import { violatedUniqueConstraint } from "./db-errors.js";
import { FieldErrorCollector, ValidationFailed } from "./errors.js";
import type { Page, PageRequest } from "./paging.js";
import { requireTenant } from "./scope.js";
import { addUser, selectUsers, userRecord, userRecordOf } from "./user-records.js";
import { type UserView, userView } from "./views.js";

export function me(caller: SessionCaller): UserView {
  return userView(caller.user);
}

/** The users of the scope's one tenant, each with their roles, in one statement. */
export async function listUsers(
  ctx: Pick<ServiceContext, "em">,
  scope: TenantScope,
  page?: PageRequest,
  filter: { isActive?: boolean } = {},
): Promise<Page<UserView>> {
  const tenantId = requireTenant(scope);
  const { count, results } = await selectUsers(ctx.em, tenantId, filter, page);
  return { count, results: results.map((row) => userView(userRecord(row))) };
}

export interface CreateSuperuserInput {
  email: string;
  password: string;
  firstName?: string;
  lastName?: string;
}

/** Platform staff: a user of no tenant. Only the command line creates them. */
export async function createSuperuser(
  ctx: Pick<ServiceContext, "em" | "clock" | "audit">,
  input: CreateSuperuserInput,
): Promise<UserView> {
  const errors = new FieldErrorCollector();
  errors.add("password", ...passwordProblems(input.password, input));
  errors.throwIfAny();
  const passwordHash = await hashPassword(input.password);
  const user = addUser(
    ctx.em,
    { tenantId: null, email: input.email, passwordHash, firstName: input.firstName, lastName: input.lastName },
    ctx.clock.now(),
  );
  recordAudit(
    ctx.em,
    ctx.audit,
    {
      action: "superuser.created",
      tenantId: null,
      target: { type: "user", id: user.id },
      details: { email: user.email },
    },
    user.dateJoined,
  );
  try {
    await ctx.em.flush();
  } catch (error) {
    if (violatedUniqueConstraint(error) === "users_superuser_email_key") {
      throw ValidationFailed.field("email", "A superuser with this email already exists.");
    }
    throw error;
  }
  return userView(userRecordOf(user, []));
}
