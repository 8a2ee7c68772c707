import { AuditEvent, type EntityManager, newId, type Statement } from "@tenantry/db";

/** Who made a change. */
export type Actor =
  | { type: "user"; id: string; email: string }
  | { type: "anonymous" }
  | { type: "system" }
  | { type: "cli" };

/** Who is acting and from where: what every audited service is given. */
export interface AuditContext {
  actor: Actor;
  client: { ip: string | null; userAgent: string | null };
}

export const AUDIT_ACTIONS = [
  "tenant.created",
  "auth.login_succeeded",
  "auth.login_failed",
  "auth.logout",
  "invitation.created",
  "invitation.resent",
  "invitation.extended",
  "invitation.revoked",
  "invitation.accepted",
  "invitation.purged",
  "role.granted",
  "role.revoked",
  "superuser.created",
  "email.delivery_failed",
  "webhook.created",
  "webhook.removed",
  "webhook.tested",
  "webhook.disabled",
  "user.updated",
  "user.deactivated",
  "user.activated",
  "user.deleted",
  "auth.password_changed",
  "auth.session_ended",
  "auth.sessions_ended",
  "auth.password_reset_requested",
  "auth.password_reset",
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditRecord {
  action: AuditAction;
  tenantId: string | null;
  target?: {
    type: "tenant" | "user" | "invitation" | "role_assignment" | "session" | "webhook_endpoint" | "password_reset";
    id: string;
  };
  /** Small and never secret: no passwords, tokens or hashes. */
  details?: Record<string, unknown>;
  /** Who acted, when it is not the context's actor (sign-up: the new admin). */
  actor?: Actor;
}

export const SYSTEM: AuditContext = { actor: { type: "system" }, client: { ip: null, userAgent: null } };

function columns(audit: AuditContext, record: AuditRecord, at: Date) {
  const actor = record.actor ?? audit.actor;
  return {
    id: newId(at.getTime()),
    occurredAt: at,
    actorType: actor.type,
    actorId: actor.type === "user" ? actor.id : null,
    actorEmail: actor.type === "user" ? actor.email : null,
    tenantId: record.tenantId,
    action: record.action,
    targetType: record.target?.type ?? null,
    targetId: record.target?.id ?? null,
    details: record.details ?? {},
    ip: audit.client.ip,
    userAgent: audit.client.userAgent?.slice(0, 512) ?? null,
  };
}

/** Adds the event to the unit of work: it is written by the same flush, in the same transaction, as the change. */
export function recordAudit(em: EntityManager, audit: AuditContext, record: AuditRecord, at: Date): void {
  em.create(AuditEvent, columns(audit, record, at));
}

/** Writes the event now, through `em` (inside the caller's transaction when `em` is a transaction's). */
export async function insertAudit(
  em: EntityManager,
  audit: AuditContext,
  record: AuditRecord,
  at: Date,
): Promise<void> {
  await em.insert(AuditEvent, columns(audit, record, at));
}

const AUDIT_COLUMNS =
  "id, occurred_at, actor_type, actor_id, actor_email, tenant_id, action, target_type, target_id, details, ip, user_agent";
/** Writes several events in one statement, through `em` (inside the caller's transaction when `em` is a transaction's). */
export async function insertAudits(
  em: EntityManager,
  audit: AuditContext,
  records: AuditRecord[],
  at: Date,
): Promise<void> {
  await em.insertMany(
    AuditEvent,
    records.map((record) => columns(audit, record, at)),
  );
}

/**
 * The same event as one `insert` fragment, for statements that make the
 * change and its record in one round trip (`with … insert`). With `from` (a
 * `with` query's name) the event is written once for each of its rows: none
 * when the change did not happen. `moreDetails` is a SQL `jsonb` expression
 * merged into the details (what only the statement knows, such as the ids it
 * replaced).
 */
export function auditInsertSql(
  audit: AuditContext,
  record: AuditRecord,
  at: Date,
  options: { from?: string; moreDetails?: string } = {},
): Statement {
  const row = columns(audit, record, at);
  const details = options.moreDetails ? `?::jsonb || ${options.moreDetails}` : "?::jsonb";
  const values = `?::uuid, ?::timestamptz, ?, ?::uuid, ?, ?::uuid, ?, ?, ?, ${details}, ?, ?`;
  return {
    sql: `insert into audit_events (${AUDIT_COLUMNS})
          ${options.from ? `select ${values} from ${options.from}` : `values (${values})`}`,
    params: [
      row.id,
      row.occurredAt,
      row.actorType,
      row.actorId,
      row.actorEmail,
      row.tenantId,
      row.action,
      row.targetType,
      row.targetId,
      JSON.stringify(row.details),
      row.ip,
      row.userAgent,
    ],
  };
}

/**
 * One event for each row of `from` (a `with` query's name), in the same
 * statement: the action, actor, client and time are shared; the row gives
 * the tenant, the target's id and the details, as SQL expressions over it
 * (`details.params` fill the placeholders of `details.sql`).
 */
export function auditInsertSelectSql(
  audit: AuditContext,
  record: Pick<AuditRecord, "action"> & { targetType: NonNullable<AuditRecord["target"]>["type"] },
  from: { name: string; tenantId: string; targetId: string; details: { sql: string; params: unknown[] } },
  at: Date,
): { sql: string; params: unknown[] } {
  const row = columns(audit, { action: record.action, tenantId: null }, at);
  return {
    sql: `insert into audit_events (${AUDIT_COLUMNS})
          select gen_random_uuid(), ?, ?, ?, ?, ${from.tenantId}, ?, ?, ${from.targetId}, ${from.details.sql}, ?, ?
          from ${from.name}`,
    params: [
      row.occurredAt,
      row.actorType,
      row.actorId,
      row.actorEmail,
      row.action,
      record.targetType,
      ...from.details.params,
      row.ip,
      row.userAgent,
    ],
  };
}
