import { type EntityManager, isoTimestamp, type Statement, selectRows, type Tenant } from "@tenantry/db";
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

/**
 * Whether a tenant has this name (any case), and the slugs taken among `base`
 * and `base-N`, in one statement.
 */
export async function nameAndSlugsTaken(
  em: EntityManager,
  name: string,
  base: string,
): Promise<{ nameTaken: boolean; slugs: Set<string> }> {
  const [row] = await selectRows<{ name_taken: boolean; slugs: string[] }>(
    em,
    `select exists (select 1 from tenants where lower(name) = lower(?)) as name_taken,
            array(select slug from tenants where slug = ? or slug like ?) as slugs`,
    [name, base, `${base}-%`],
  );
  return { nameTaken: row?.name_taken ?? false, slugs: new Set(row?.slugs ?? []) };
}

/** The base slug, or the base with the lowest free numeric suffix. */
export function freeSlug(base: string, taken: Set<string>): string {
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
}

/** The insert of a new tenant, for a statement that makes it with more (`with … insert`). */
export function tenantInsertSql(tenant: Pick<Tenant, "id" | "name" | "slug" | "createdAt">): Statement {
  return {
    sql: "insert into tenants (id, name, slug, created_at) values (?::uuid, ?, ?, ?::timestamptz)",
    params: [tenant.id, tenant.name, tenant.slug, tenant.createdAt],
  };
}
