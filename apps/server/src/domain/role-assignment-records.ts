import { type EntityManager, isoTimestamp, type Role, type RoleAssignment, type Statement } from "@tenantry/db";
import { Conditions, type Page, type PageRequest, pagedQuery } from "./paging.js";
import type { RoleAssignmentView } from "./views.js";

/** Role assignments as rows: the select list, the row it returns, the one mapping to the view, and the list statement. */
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

/** The insert of a new assignment, for a statement that makes it with more (`with … insert`); with `from`, once per row of it. */
export function roleAssignmentInsertSql(
  assignment: { id: string; tenantId: string; userId: string; role: Role; grantedById: string | null; createdAt: Date },
  from?: string,
): Statement {
  const values = "?::uuid, ?::uuid, ?::uuid, ?, ?::uuid, ?::timestamptz";
  return {
    sql: `insert into role_assignments (id, tenant_id, user_id, role, granted_by_id, created_at)
          ${from ? `select ${values} from ${from}` : `values (${values})`}`,
    params: [
      assignment.id,
      assignment.tenantId,
      assignment.userId,
      assignment.role,
      assignment.grantedById,
      assignment.createdAt,
    ],
  };
}

/** One statement, whatever the number of rows; paged, the total comes with the window. */
export function selectRoleAssignments(
  em: EntityManager,
  tenantId: string | null,
  filter: { userId?: string; role?: Role },
  page: PageRequest | undefined,
): Promise<Page<RoleAssignmentRow>> {
  const where = new Conditions();
  if (tenantId) where.add("ra.tenant_id = ?", tenantId);
  if (filter.userId) where.add("ra.user_id = ?", filter.userId);
  if (filter.role) where.add("ra.role = ?", filter.role);
  return pagedQuery<RoleAssignmentRow>(
    em,
    {
      columns: ROLE_ASSIGNMENT_COLUMNS,
      from: "role_assignments ra",
      where,
      orderBy: "ra.created_at, ra.id",
      counted: tenantId && !filter.userId && !filter.role ? { list: "role_assignments", tenantId } : undefined,
    },
    page,
  );
}
