import type { EntityManager } from "@tenantry/db";
import { keepAnActiveAdmin } from "./admins.js";
import { insertAudit } from "./audit.js";
import type { SessionCaller, TenantScope } from "./caller.js";
import type { ServiceContext } from "./context.js";
import { NotFound } from "./errors.js";
import { USER_COLUMNS, type UserRow, userRecord } from "./user-records.js";
import { type UserView, userView } from "./views.js";

type Ctx = Pick<ServiceContext, "em" | "clock" | "audit">;

/** A member's own names; the rest of the user object is not theirs to change. */
export async function updateMe(
  ctx: Ctx,
  caller: SessionCaller,
  input: { firstName?: string; lastName?: string },
): Promise<UserView> {
  const changes: Record<string, string> = {};
  if (input.firstName !== undefined) changes.firstName = input.firstName;
  if (input.lastName !== undefined) changes.lastName = input.lastName;
  const user = caller.user;
  if (Object.keys(changes).length === 0) return userView(user);
  const now = ctx.clock.now();
  await ctx.em.transactional(async (em) => {
    await em
      .getConnection()
      .execute(
        "update users set first_name = ?, last_name = ? where id = ?",
        [changes.firstName ?? user.firstName, changes.lastName ?? user.lastName, user.id],
        "run",
        em.getTransactionContext(),
      );
    await insertAudit(
      em,
      ctx.audit,
      { action: "user.updated", tenantId: user.tenantId, target: { type: "user", id: user.id }, details: changes },
      now,
    );
  });
  return userView({ ...user, ...changes });
}

/** A member of the scope's tenant (read in `em`'s transaction); superusers and other tenants' users are not found. */
async function memberInScope(
  em: EntityManager,
  scope: TenantScope,
  id: string,
): Promise<UserRow & { tenant_id: string }> {
  const where = scope.tenantId ? "u.id = ? and u.tenant_id = ?" : "u.id = ? and u.tenant_id is not null";
  const rows = await em
    .getConnection()
    .execute<UserRow[]>(
      `select ${USER_COLUMNS} from users u where ${where}`,
      scope.tenantId ? [id, scope.tenantId] : [id],
      "all",
      em.getTransactionContext(),
    );
  const row = rows[0];
  if (!row || row.tenant_id === null) throw new NotFound();
  return row as UserRow & { tenant_id: string };
}

/**
 * Deactivates a member: every session of theirs ends in the same
 * transaction, they can no longer log in, and they stop counting as an ADMIN
 * (refused if they are the tenant's last active one). Their role assignments
 * stay. Deactivating an inactive member changes nothing.
 */
export async function deactivateMember(ctx: Ctx, scope: TenantScope, id: string): Promise<UserView> {
  return setActive(ctx, scope, id, false);
}

/** Lets a deactivated member log in again (their old sessions stay ended). */
export async function activateMember(ctx: Ctx, scope: TenantScope, id: string): Promise<UserView> {
  return setActive(ctx, scope, id, true);
}

async function setActive(ctx: Ctx, scope: TenantScope, id: string, active: boolean): Promise<UserView> {
  const now = ctx.clock.now();
  const row = await ctx.em.transactional(async (em) => {
    const member = await memberInScope(em, scope, id);
    const tenantId = member.tenant_id;
    if (!active) await keepAnActiveAdmin(em, tenantId, id);
    const connection = em.getConnection();
    const tx = em.getTransactionContext();
    // Conditional, so a repeated (or concurrent) call changes and records nothing the second time.
    const changed = await connection.execute(
      "update users set is_active = ? where id = ? and is_active <> ? returning id",
      [active, id, active],
      "all",
      tx,
    );
    if ((changed as unknown[]).length === 0) return { ...member, is_active: active };
    let endedSessions = 0;
    if (!active) {
      const ended = await connection.execute("delete from sessions where user_id = ?", [id], "run", tx);
      endedSessions = (ended as { affectedRows?: number }).affectedRows ?? 0;
    }
    await insertAudit(
      em,
      ctx.audit,
      {
        action: active ? "user.activated" : "user.deactivated",
        tenantId,
        target: { type: "user", id },
        details: active ? { email: member.email } : { email: member.email, endedSessions },
      },
      now,
    );
    return { ...member, is_active: active };
  });
  return userView(userRecord(row));
}

/**
 * Deletes a member with their role assignments and sessions (by the
 * database's cascades). Audit events stay; invitations they sent keep
 * `invitedBy: null`; the address may be invited again. The tenant's last
 * active ADMIN cannot be deleted.
 */
export async function deleteMember(ctx: Ctx, scope: TenantScope, id: string): Promise<void> {
  const now = ctx.clock.now();
  await ctx.em.transactional(async (em) => {
    const { tenant_id: tenantId } = await memberInScope(em, scope, id);
    await keepAnActiveAdmin(em, tenantId, id);
    const deleted = await em.getConnection().execute<{ email: string; roles: string[] }[]>(
      `delete from users u where u.id = ? and u.tenant_id = ?
         returning u.email, coalesce((select array_agg(ra.role order by ra.role) from role_assignments ra
                                      where ra.user_id = u.id), '{}') as roles`,
      [id, tenantId],
      "all",
      em.getTransactionContext(),
    );
    const gone = deleted[0];
    if (!gone) throw new NotFound();
    await insertAudit(
      em,
      ctx.audit,
      {
        action: "user.deleted",
        tenantId,
        target: { type: "user", id },
        details: { email: gone.email, roles: gone.roles },
      },
      now,
    );
  });
}
