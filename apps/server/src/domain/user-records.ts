import { isoTimestamp, type Role } from "@tenantry/db";
import type { UserRecord } from "./caller.js";

/**
 * Reading users with their roles in one statement. The roles come from a
 * correlated aggregate, so a list of N users is still one query.
 */
export const USER_COLUMNS = `u.id, u.tenant_id, u.email, u.first_name, u.last_name, u.is_superuser, u.is_active,
  ${isoTimestamp("u.date_joined")} as date_joined,
  coalesce((select array_agg(ra.role order by ra.role) from role_assignments ra where ra.user_id = u.id), '{}') as roles`;

export interface UserRow {
  id: string;
  tenant_id: string | null;
  email: string;
  first_name: string;
  last_name: string;
  is_superuser: boolean;
  is_active: boolean;
  date_joined: string;
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
    isActive: row.is_active,
    dateJoined: row.date_joined,
    roles: row.roles,
  };
}
