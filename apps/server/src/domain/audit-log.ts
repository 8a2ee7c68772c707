import { type AuditActorType, isoTimestamp } from "@tenantry/db";
import type { AuditAction } from "./audit.js";
import type { TenantScope } from "./caller.js";
import type { ServiceContext } from "./context.js";
import { isUuid } from "./ids.js";
import {
  Conditions,
  type CursorPage,
  type CursorRequest,
  cursorQuery,
  type Page,
  type PageRequest,
  pagedQuery,
} from "./paging.js";

export interface AuditEventView {
  id: string;
  occurredAt: string;
  actorType: AuditActorType;
  actorId: string | null;
  actorEmail: string | null;
  tenantId: string | null;
  action: AuditAction;
  targetType: string | null;
  targetId: string | null;
  details: Record<string, unknown>;
  ip: string | null;
  userAgent: string | null;
}

export interface AuditFilter {
  action?: AuditAction;
  /** A user's id or email, or `system`, `cli`, `anonymous`. */
  actor?: string;
  since?: Date;
  until?: Date;
}

interface AuditRow {
  id: string;
  occurred_at: string;
  actor_type: AuditActorType;
  actor_id: string | null;
  actor_email: string | null;
  tenant_id: string | null;
  action: AuditAction;
  target_type: string | null;
  target_id: string | null;
  details: Record<string, unknown> | string;
  ip: string | null;
  user_agent: string | null;
}

const AUDIT_COLUMNS = `a.id, ${isoTimestamp("a.occurred_at")} as occurred_at, a.actor_type, a.actor_id, a.actor_email, a.tenant_id,
   a.action, a.target_type, a.target_id, a.details, a.ip, a.user_agent`;
const AUDIT_ORDER = "a.occurred_at desc, a.id desc";

function auditConditions(scope: TenantScope, filter: AuditFilter): Conditions {
  const where = new Conditions();
  if (scope.tenantId) where.add("a.tenant_id = ?", scope.tenantId);
  if (filter.action) where.add("a.action = ?", filter.action);
  if (filter.actor) {
    if (isUuid(filter.actor)) where.add("a.actor_id = ?", filter.actor);
    else if (["system", "cli", "anonymous"].includes(filter.actor)) where.add("a.actor_type = ?", filter.actor);
    else where.add("lower(a.actor_email) = lower(?)", filter.actor);
  }
  if (filter.since) where.add("a.occurred_at >= ?", filter.since);
  if (filter.until) where.add("a.occurred_at < ?", filter.until);
  return where;
}

/** Newest first. Read-only: nothing anywhere changes or deletes an event. */
export async function listAuditEvents(
  ctx: Pick<ServiceContext, "em">,
  scope: TenantScope,
  filter: AuditFilter,
  page?: PageRequest,
): Promise<Page<AuditEventView>> {
  const { count, results } = await pagedQuery<AuditRow>(
    ctx.em,
    { columns: AUDIT_COLUMNS, from: "audit_events a", where: auditConditions(scope, filter), orderBy: AUDIT_ORDER },
    page,
  );
  return { count, results: results.map(auditEventView) };
}

/**
 * The same list, newest first, a page at a time by cursor: the page after
 * (or before) a cursor's event comes straight off the index on
 * (tenant_id, occurred_at, id), or on (occurred_at, id) for every tenant, so
 * the last page of a million events costs what the first does.
 */
export async function listAuditEventsByCursor(
  ctx: Pick<ServiceContext, "em">,
  scope: TenantScope,
  filter: AuditFilter,
  request: CursorRequest,
): Promise<CursorPage<AuditEventView>> {
  const page = await cursorQuery<AuditRow>(
    ctx.em,
    {
      columns: AUDIT_COLUMNS,
      from: "audit_events a",
      where: auditConditions(scope, filter),
      order: { at: "a.occurred_at", id: "a.id", descending: true },
    },
    request,
  );
  return { ...page, results: page.results.map(auditEventView) };
}

function auditEventView(row: AuditRow): AuditEventView {
  return {
    id: row.id,
    occurredAt: row.occurred_at,
    actorType: row.actor_type,
    actorId: row.actor_id,
    actorEmail: row.actor_email,
    tenantId: row.tenant_id,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    details: typeof row.details === "string" ? JSON.parse(row.details) : row.details,
    ip: row.ip,
    userAgent: row.user_agent,
  };
}
