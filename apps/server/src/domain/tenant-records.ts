import { isoTimestamp, type Tenant } from "@tenantry/db";
import type { TenantView } from "./views.js";

/** Tenants as rows: the select list, the row it returns and the one mapping to the view. */
export interface TenantRow {
  id: string;
  name: string;
  slug: string;
  created_at: string;
}

/** The select list of a `TenantRow` from `tenants t`. */
export const TENANT_COLUMNS = `t.id, t.name, t.slug, ${isoTimestamp("t.created_at")} as created_at`;

export function tenantView(row: TenantRow): TenantView {
  return { id: row.id, name: row.name, slug: row.slug, createdAt: row.created_at };
}

/** A loaded tenant as the row a read would return. */
export function tenantRow(tenant: Pick<Tenant, "id" | "name" | "slug" | "createdAt">): TenantRow {
  return { id: tenant.id, name: tenant.name, slug: tenant.slug, created_at: tenant.createdAt.toISOString() };
}
