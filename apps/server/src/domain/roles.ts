import { newId, type Role, RoleAssignment } from "@tenantry/db";
import { keepAnActiveAdmin } from "./admins.js";
import { type AuditAction, type AuditRecord, insertAudit, recordAudit } from "./audit.js";
import type { TenantScope } from "./caller.js";
import type { ServiceContext } from "./context.js";
import { violatedUniqueConstraint } from "./db-errors.js";
import { NON_FIELD, NotFound, ValidationFailed } from "./errors.js";
import type { Page, PageRequest } from "./paging.js";
import { roleAssignmentRow, roleAssignmentView, selectRoleAssignments } from "./role-assignment-records.js";
import { tenantOfUser } from "./user-records.js";
import type { RoleAssignmentView } from "./views.js";

/** One statement, whatever the number of rows; paged, the total comes with the window. */
export async function listRoleAssignments(
  ctx: Pick<ServiceContext, "em">,
  scope: TenantScope,
  filter: { userId?: string; role?: Role },
  page?: PageRequest,
): Promise<Page<RoleAssignmentView>> {
  const { count, results } = await selectRoleAssignments(ctx.em, scope.tenantId, filter, page);
  return { count, results: results.map(roleAssignmentView) };
}

/**
 * Grants a role to a user of the scope's tenant (a superuser's grant goes to
 * the user's own tenant). The database's unique (user, role) rejects a
 * duplicate, also between two concurrent grants.
 */
export async function grantRole(
  ctx: Pick<ServiceContext, "em" | "clock" | "audit">,
  scope: TenantScope,
  input: { userId: string; role: Role },
  grantedById: string | null,
): Promise<RoleAssignmentView> {
  const tenantId = await tenantOfUser(ctx.em, input.userId, scope.tenantId);
  if (!tenantId) throw ValidationFailed.field("userId", `Invalid pk "${input.userId}" - object does not exist.`);
  const now = ctx.clock.now();
  const assignment = ctx.em.create(RoleAssignment, {
    id: newId(),
    tenant: tenantId,
    user: input.userId,
    role: input.role,
    grantedBy: grantedById,
    createdAt: now,
  });
  recordAudit(ctx.em, ctx.audit, assignmentEvent("role.granted", assignment), now);
  try {
    await ctx.em.flush();
  } catch (error) {
    ctx.em.clear();
    if (violatedUniqueConstraint(error) === "role_assignments_user_role_key") {
      throw ValidationFailed.field(NON_FIELD, "The fields user, role must make a unique set.");
    }
    throw error;
  }
  return roleAssignmentView(roleAssignmentRow(assignment));
}

/** An event about an assignment: recorded against its tenant, with it as the target and whose role it is. */
function assignmentEvent(action: AuditAction, assignment: RoleAssignment): AuditRecord {
  return {
    action,
    tenantId: assignment.tenant,
    target: { type: "role_assignment", id: assignment.id },
    details: { userId: assignment.user, role: assignment.role },
  };
}

const LAST_ADMIN = "This is the tenant's last ADMIN assignment; grant ADMIN to someone else before revoking it.";

/**
 * Revokes an assignment. Removing an ADMIN takes the tenant's row lock first,
 * so two admins revoking each other at the same moment are serialized and the
 * second sees that only one active ADMIN is left: a tenant is never locked out.
 */
export async function revokeRole(
  ctx: Pick<ServiceContext, "em" | "clock" | "audit">,
  scope: TenantScope,
  id: string,
): Promise<void> {
  const assignment = await ctx.em.findOne(RoleAssignment, scope.tenantId ? { id, tenant: scope.tenantId } : { id });
  if (!assignment) throw new NotFound();
  const now = ctx.clock.now();
  await ctx.em.transactional(async (em) => {
    if (assignment.role === "ADMIN") {
      await keepAnActiveAdmin(em, assignment.tenant, assignment.user, LAST_ADMIN);
    }
    if ((await em.nativeDelete(RoleAssignment, { id })) === 0) throw new NotFound();
    await insertAudit(em, ctx.audit, assignmentEvent("role.revoked", assignment), now);
  });
}
