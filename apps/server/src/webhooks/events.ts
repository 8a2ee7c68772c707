/** An audit event as the worker reads it to build the event body. */
export interface AuditEventRow {
  id: string;
  /** ISO 8601, UTC. */
  occurred_at: string;
  actor_type: string;
  actor_id: string | null;
  tenant_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  details: Record<string, unknown> | string;
}

const snake = (name: string) => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [snake(key), snakeKeys(inner)]));
  }
  return value;
}

/**
 * The JSON body of one event (API.md, "Events for provisioners"): built only
 * from the audit event, which never changes, so every attempt sends the same
 * bytes. Audit details never hold a secret (no password, token or hash), and
 * neither does anything added here; the client IP and user agent stay out.
 */
export function eventBody(event: AuditEventRow): string {
  const details = (typeof event.details === "string" ? JSON.parse(event.details) : event.details) as Record<
    string,
    unknown
  >;
  let data: Record<string, unknown>;
  if (event.action === "tenant.created") {
    data = {
      tenant: { id: event.tenant_id, name: details.name, slug: details.slug, created_at: event.occurred_at },
      admin_user_id: details.adminUserId,
      admin_email: details.adminEmail,
    };
  } else {
    data = {
      actor: { type: event.actor_type, id: event.actor_id },
      target: event.target_type ? { type: event.target_type, id: event.target_id } : null,
      ...(snakeKeys(details) as Record<string, unknown>),
    };
  }
  return JSON.stringify({
    id: event.id,
    type: event.action,
    created_at: event.occurred_at,
    tenant: event.tenant_id,
    data,
  });
}
