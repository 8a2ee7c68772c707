import { type EntityManager, runStatement } from "@tenantry/db";

/**
 * Serializes changes that must see each other within one tenant (re-invites
 * of one address, removal of ADMINs) on the tenant's row. `no key update`
 * does not block inserts that merely reference the tenant. Call inside the
 * transaction; the lock ends with it.
 */
export async function lockTenant(em: EntityManager, tenantId: string): Promise<boolean> {
  const rows = await runStatement(em, "select id from tenants where id = ? for no key update", [tenantId]);
  return rows.length > 0;
}
