import type { EntityManager, Role } from "@tenantry/db";
import type { UserRecord } from "./caller.js";

/**
 * Reading users with their roles in one statement. The roles come from a
 * correlated aggregate, so a list of N users is still one query.
 */
export const USER_COLUMNS = `u.id, u.tenant_id, u.email, u.first_name, u.last_name, u.is_superuser, u.date_joined,
  coalesce((select array_agg(ra.role order by ra.role) from role_assignments ra where ra.user_id = u.id), '{}') as roles`;

export interface UserRow {
  id: string;
  tenant_id: string | null;
  email: string;
  first_name: string;
  last_name: string;
  is_superuser: boolean;
  date_joined: Date;
  roles: Role[];
}

export function userRecord(row: UserRow): UserRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    email: row.email,
    firstName: row.first_name,
    lastName: row.last_name,
    isSuperuser: row.is_superuser,
    dateJoined: new Date(row.date_joined),
    roles: row.roles,
  };
}

export async function findUserRecord(em: EntityManager, id: string): Promise<UserRecord | null> {
  const rows = await em.getConnection().execute<UserRow[]>(`select ${USER_COLUMNS} from users u where u.id = ?`, [id]);
  return rows[0] ? userRecord(rows[0]) : null;
}
