import { isoTimestamp, type Role, type RoleAssignment } from "@tenantry/db";
import type { RoleAssignmentView } from "./views.js";

/** Role assignments as rows: the select list, the row it returns and the one mapping to the view. */
export interface RoleAssignmentRow {
  id: string;
  user_id: string;
  role: Role;
  tenant_id: string;
  granted_by_id: string | null;
  created_at: string;
}

/** The select list of a `RoleAssignmentRow` from `role_assignments ra`. */
export const ROLE_ASSIGNMENT_COLUMNS = `ra.id, ra.user_id, ra.role, ra.tenant_id, ra.granted_by_id, ${isoTimestamp("ra.created_at")} as created_at`;

export function roleAssignmentView(row: RoleAssignmentRow): RoleAssignmentView {
  return {
    id: row.id,
    userId: row.user_id,
    role: row.role,
    tenantId: row.tenant_id,
    grantedById: row.granted_by_id,
    createdAt: row.created_at,
  };
}

/** A loaded assignment as the row a read would return. */
export function roleAssignmentRow(assignment: RoleAssignment): RoleAssignmentRow {
  return {
    id: assignment.id,
    user_id: assignment.user,
    role: assignment.role,
    tenant_id: assignment.tenant,
    granted_by_id: assignment.grantedBy ?? null,
    created_at: assignment.createdAt.toISOString(),
  };
}
