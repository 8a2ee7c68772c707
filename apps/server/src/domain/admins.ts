import type { EntityManager } from "@tenantry/db";
import { InvalidRequest } from "./errors.js";
import { lockTenant } from "./locks.js";

export const LAST_ACTIVE_ADMIN =
  "This is the tenant's last ADMIN (inactive members do not count); grant ADMIN to another active member first.";

/**
 * Refuses a change that would leave the tenant without an active ADMIN, when
 * `userId` is to stop counting as one (deactivated, deleted, or its ADMIN
 * assignment revoked). Takes the tenant's row lock first, so concurrent
 * removals of two admins are serialized and the second sees the first's
 * effect. Call inside the change's transaction.
 */
export async function keepAnActiveAdmin(
  em: EntityManager,
  tenantId: string,
  userId: string,
  message = LAST_ACTIVE_ADMIN,
): Promise<void> {
  await lockTenant(em, tenantId);
  const rows = await em.getConnection().execute<{ target: boolean; others: boolean }[]>(
    `select
       exists (select 1 from role_assignments ra join users u on u.id = ra.user_id
               where ra.tenant_id = ? and ra.role = 'ADMIN' and u.is_active and u.id = ?) as target,
       exists (select 1 from role_assignments ra join users u on u.id = ra.user_id
               where ra.tenant_id = ? and ra.role = 'ADMIN' and u.is_active and u.id <> ?) as others`,
    [tenantId, userId, tenantId, userId],
    "all",
    em.getTransactionContext(),
  );
  const row = rows[0];
  if (row?.target && !row.others) throw new InvalidRequest(message);
}
