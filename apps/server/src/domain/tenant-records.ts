import { type EntityManager, isoTimestamp, type Tenant } from "@tenantry/db";
import { Conditions, type Page, type PageRequest, pagedQuery } from "./paging.js";
import type { TenantView } from "./views.js";

/** Tenants as rows: the select list, the row it returns, the one mapping to the view, and the tenants' statements. */
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

/** One tenant (`tenantId`) or every tenant, oldest first, in one statement. */
export function selectTenants(
  em: EntityManager,
  tenantId: string | null,
  page: PageRequest | undefined,
): Promise<Page<TenantRow>> {
  return pagedQuery<TenantRow>(
    em,
    {
      columns: TENANT_COLUMNS,
      from: "tenants t",
      where: tenantId ? new Conditions().add("t.id = ?", tenantId) : new Conditions(),
      orderBy: "t.created_at, t.id",
    },
    page,
  );
}

/** Whether a tenant has this name (any case). */
export async function tenantNameTaken(em: EntityManager, name: string): Promise<boolean> {
  const rows = await em.getConnection().execute("select 1 from tenants where lower(name) = lower(?) limit 1", [name]);
  return rows.length > 0;
}

/** The base slug, or the base with the lowest free numeric suffix. */
export async function freeSlug(em: EntityManager, base: string): Promise<string> {
  const rows = await em
    .getConnection()
    .execute<{ slug: string }[]>("select slug from tenants where slug = ? or slug like ?", [base, `${base}-%`]);
  const taken = new Set(rows.map((row) => row.slug));
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
}
