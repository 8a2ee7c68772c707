import { type AuditActorType, isoTimestamp } from "@tenantry/db";
import type { AuditAction } from "./audit.js";
import type { TenantScope } from "./caller.js";
import type { ServiceContext } from "./context.js";
import { isUuid } from "./ids.js";
import { Conditions, type Page, type PageRequest, pagedQuery } from "./paging.js";

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

/** Newest first. Read-only: nothing anywhere changes or deletes an event. */
export async function listAuditEvents(
  ctx: Pick<ServiceContext, "em">,
  scope: TenantScope,
  filter: AuditFilter,
  page?: PageRequest,
): Promise<Page<AuditEventView>> {
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
  const { count, results } = await pagedQuery<AuditRow>(
    ctx.em,
    {
      columns: `a.id, ${isoTimestamp("a.occurred_at")} as occurred_at, a.actor_type, a.actor_id, a.actor_email, a.tenant_id,
         a.action, a.target_type, a.target_id, a.details, a.ip, a.user_agent`,
      from: "audit_events a",
      where,
      orderBy: "a.occurred_at desc, a.id desc",
    },
    page,
  );
  return {
    count,
    results: results.map((row) => ({
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
    })),
  };
}
