import { LockMode, newId, type Role, RoleAssignment, Tenant } from "@tenantry/db";
import type { TenantScope } from "./caller.js";
import type { ServiceContext } from "./context.js";
import { violatedUniqueConstraint } from "./db-errors.js";
import { InvalidRequest, NON_FIELD, NotFound, ValidationFailed } from "./errors.js";
import { type RoleAssignmentView, roleAssignmentView } from "./views.js";

export async function listRoleAssignments(
  ctx: Pick<ServiceContext, "em">,
  scope: TenantScope,
  filter: { userId?: string; role?: Role },
): Promise<RoleAssignmentView[]> {
  const where: Record<string, unknown> = scope.tenantId ? { tenant: scope.tenantId } : {};
  if (filter.userId) where.user = filter.userId;
  if (filter.role) where.role = filter.role;
  const assignments = await ctx.em.find(RoleAssignment, where, { orderBy: { createdAt: "asc", id: "asc" } });
  return assignments.map(roleAssignmentView);
}

/**
 * Grants a role to a user of the scope's tenant (a superuser's grant goes to
 * the user's own tenant). The database's unique (user, role) rejects a
 * duplicate, also between two concurrent grants.
 */
export async function grantRole(
  ctx: Pick<ServiceContext, "em" | "clock">,
  scope: TenantScope,
  input: { userId: string; role: Role },
  grantedById: string,
): Promise<RoleAssignmentView> {
  const rows = await ctx.em
    .getConnection()
    .execute<{ tenant_id: string | null }[]>(
      scope.tenantId
        ? "select tenant_id from users where id = ? and tenant_id = ?"
        : "select tenant_id from users where id = ?",
      scope.tenantId ? [input.userId, scope.tenantId] : [input.userId],
    );
  const tenantId = rows[0]?.tenant_id;
  if (!tenantId) throw ValidationFailed.field("userId", `Invalid pk "${input.userId}" - object does not exist.`);
  const assignment = ctx.em.create(RoleAssignment, {
    id: newId(),
    tenant: tenantId,
    user: input.userId,
    role: input.role,
    grantedBy: grantedById,
    createdAt: ctx.clock.now(),
  });
  try {
    await ctx.em.flush();
  } catch (error) {
    ctx.em.clear();
    if (violatedUniqueConstraint(error) === "role_assignments_user_role_key") {
      throw ValidationFailed.field(NON_FIELD, "The fields user, role must make a unique set.");
    }
    throw error;
  }
  return roleAssignmentView(assignment);
}

const LAST_ADMIN = "This is the tenant's last ADMIN assignment; grant ADMIN to someone else before revoking it.";

/**
 * Revokes an assignment. Removing an ADMIN takes the tenant's row lock first,
 * so two admins revoking each other at the same moment are serialized and the
 * second sees that only one ADMIN is left: a tenant is never locked out.
 */
export async function revokeRole(ctx: Pick<ServiceContext, "em">, scope: TenantScope, id: string): Promise<void> {
  const assignment = await ctx.em.findOne(RoleAssignment, scope.tenantId ? { id, tenant: scope.tenantId } : { id });
  if (!assignment) throw new NotFound();
  if (assignment.role !== "ADMIN") {
    if ((await ctx.em.nativeDelete(RoleAssignment, { id })) === 0) throw new NotFound();
    return;
  }
  await ctx.em.transactional(async (em) => {
    await em.findOneOrFail(Tenant, { id: assignment.tenant }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    const admins = await em.count(RoleAssignment, { tenant: assignment.tenant, role: "ADMIN" });
    if (admins <= 1) throw new InvalidRequest(LAST_ADMIN);
    if ((await em.nativeDelete(RoleAssignment, { id })) === 0) throw new NotFound();
  });
}
