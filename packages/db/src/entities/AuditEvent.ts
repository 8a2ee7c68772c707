import { defineEntity, type InferEntity } from "@mikro-orm/core";
import { newId } from "../ids.js";

export const AUDIT_ACTOR_TYPES = ["user", "anonymous", "system", "cli"] as const;
export type AuditActorType = (typeof AUDIT_ACTOR_TYPES)[number];

/**
 * One change, recorded in the transaction that made it. Append-only: the
 * database refuses updates and deletes. No foreign keys, so an event outlives
 * the tenant, user or invitation it names.
 */
export const AuditEvent = defineEntity({
  name: "AuditEvent",
  tableName: "audit_events",
  properties: (p) => ({
    id: p
      .uuid()
      .primary()
      .onCreate(() => newId()),
    occurredAt: p.datetime().columnType("timestamptz"),
    actorType: p.enum([...AUDIT_ACTOR_TYPES]),
    actorId: p.uuid().nullable(),
    actorEmail: p.text().nullable(),
    tenantId: p.uuid().nullable(),
    action: p.text(),
    targetType: p.text().nullable(),
    targetId: p.text().nullable(),
    details: p.json<Record<string, unknown>>(),
    ip: p.text().nullable(),
    userAgent: p.text().nullable(),
  }),
});
export type AuditEvent = InferEntity<typeof AuditEvent>;
