import { randomBytes } from "node:crypto";
import { type EntityManager, isoTimestamp, newId } from "@tenantry/db";
import { type AuditAction, auditInsertSql, insertAudit } from "./audit.js";
import type { ServiceContext } from "./context.js";
import { NotFound, ValidationFailed } from "./errors.js";

/**
 * Platform webhook endpoints, managed by superusers. The operator chooses
 * every target: no tenant can make the server send a request anywhere.
 * Deliveries are enqueued by the database itself (see the webhooks
 * migration) whenever an audit event is recorded, and sent by the worker in
 * `webhooks/delivery.ts`.
 */

/** Seals the signing secret with the server key so that it rests encrypted but stays usable. */
export interface SecretSealer {
  seal(plain: string): string;
}

export interface WebhookEndpointView {
  id: string;
  url: string;
  /** The event types sent to it; null: every type. */
  eventTypes: string[] | null;
  enabled: boolean;
  /** Why it was disabled (after its deliveries kept failing). */
  disabledReason: string | null;
  createdAt: string;
}

export interface CreatedWebhookEndpoint extends WebhookEndpointView {
  /** `whsec_…`: shown only here, once. */
  secret: string;
}

export type WebhookDeliveryStatus = "pending" | "delivered" | "failed";

export interface WebhookAttemptView {
  attempt: number;
  attemptedAt: string;
  succeeded: boolean;
  responseStatus: number | null;
  latencyMs: number;
  error: string | null;
}

export interface WebhookDeliveryView {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  tenantId: string | null;
  status: WebhookDeliveryStatus;
  attempts: number;
  nextAttemptAt: string | null;
  createdAt: string;
  deliveredAt: string | null;
  lastError: string | null;
  attemptLog: WebhookAttemptView[];
}

/** Event types that an endpoint may not subscribe to: endpoint management is never broadcast. */
export const UNBROADCAST_ACTIONS: readonly AuditAction[] = [
  "webhook.created",
  "webhook.removed",
  "webhook.tested",
  "webhook.disabled",
];

/** A Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

/** The URL as the audit trail shows it: no credentials, no query string (either may hold a secret). */
export function redactedUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

function checkUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw ValidationFailed.field("url", "Enter a valid URL.");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw ValidationFailed.field("url", "Only http and https URLs can receive webhooks.");
  }
  return parsed.toString();
}

interface EndpointRow {
  id: string;
  url: string;
  event_types: string[] | null;
  enabled: boolean;
  disabled_reason: string | null;
  created_at: string;
}

const ENDPOINT_COLUMNS = `id, url, event_types, enabled, disabled_reason, ${isoTimestamp("created_at")} as created_at`;

function endpointView(row: EndpointRow): WebhookEndpointView {
  return {
    id: row.id,
    url: row.url,
    eventTypes: row.event_types,
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    createdAt: row.created_at,
  };
}

function run<T>(em: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  return em.getConnection().execute<T[]>(sql, params, "all", em.getTransactionContext());
}

export async function createWebhookEndpoint(
  ctx: ServiceContext,
  sealer: SecretSealer,
  input: { url: string; eventTypes?: string[] | null },
): Promise<CreatedWebhookEndpoint> {
  const url = checkUrl(input.url);
  const eventTypes = input.eventTypes?.length ? [...new Set(input.eventTypes)].sort() : null;
  const unbroadcast = eventTypes?.filter((type) => (UNBROADCAST_ACTIONS as readonly string[]).includes(type)) ?? [];
  if (unbroadcast.length) {
    throw ValidationFailed.field("eventTypes", `These events are never sent to endpoints: ${unbroadcast.join(", ")}.`);
  }
  const secret = newSigningSecret();
  const now = ctx.clock.now();
  const id = newId(now.getTime());
  const [row] = await ctx.em.transactional(async (em) => {
    const rows = await run<EndpointRow>(
      em,
      `insert into webhook_endpoints (id, url, event_types, enabled, secret_ciphertext, created_at)
       values (?, ?, (select array_agg(value order by value) from jsonb_array_elements_text(?::jsonb)), true, ?, ?)
       returning ${ENDPOINT_COLUMNS}`,
      [id, url, eventTypes ? JSON.stringify(eventTypes) : null, sealer.seal(secret), now],
    );
    await insertAudit(
      em,
      ctx.audit,
      {
        action: "webhook.created",
        tenantId: null,
        target: { type: "webhook_endpoint", id },
        details: { url: redactedUrl(url), eventTypes },
      },
      now,
    );
    return rows;
  });
  return { ...endpointView(row as EndpointRow), secret };
}

export async function listWebhookEndpoints(ctx: Pick<ServiceContext, "em">): Promise<WebhookEndpointView[]> {
  const rows = await run<EndpointRow>(
    ctx.em,
    `select ${ENDPOINT_COLUMNS} from webhook_endpoints order by created_at, id`,
    [],
  );
  return rows.map(endpointView);
}

/** Removes the endpoint with its queue and history; the audit trail keeps that it existed. */
export async function removeWebhookEndpoint(ctx: ServiceContext, id: string): Promise<void> {
  const now = ctx.clock.now();
  await ctx.em.transactional(async (em) => {
    const [row] = await run<{ url: string }>(em, "delete from webhook_endpoints where id = ? returning url", [id]);
    if (!row) throw new NotFound();
    await insertAudit(
      em,
      ctx.audit,
      {
        action: "webhook.removed",
        tenantId: null,
        target: { type: "webhook_endpoint", id },
        details: { url: redactedUrl(row.url) },
      },
      now,
    );
  });
}

/**
 * Records a `webhook.tested` event, which the database enqueues for this
 * endpoint alone (enabled or not), in a sequence of its own; returns that
 * delivery's id. A test is sent once, never retried.
 */
export async function testWebhookEndpoint(ctx: ServiceContext, id: string): Promise<string> {
  const now = ctx.clock.now();
  return ctx.em.transactional(async (em) => {
    const [endpoint] = await run<{ url: string }>(em, "select url from webhook_endpoints where id = ? for share", [id]);
    if (!endpoint) throw new NotFound();
    const event = auditInsertSql(
      ctx.audit,
      {
        action: "webhook.tested",
        tenantId: null,
        target: { type: "webhook_endpoint", id },
        details: { url: redactedUrl(endpoint.url) },
      },
      now,
    );
    await run(em, event.sql, event.params);
    const [delivery] = await run<{ id: string }>(
      em,
      "select id from webhook_deliveries where endpoint_id = ? and event_id = ?",
      [id, event.params[0]],
    );
    if (!delivery) throw new Error("the test event was not enqueued");
    return delivery.id;
  });
}

interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  tenant_id: string | null;
  status: WebhookDeliveryStatus;
  attempts: number;
  next_attempt_at: string | null;
  created_at: string;
  delivered_at: string | null;
  last_error: string | null;
}

interface AttemptRow {
  delivery_id: string;
  attempt: number;
  attempted_at: string;
  succeeded: boolean;
  response_status: number | null;
  latency_ms: number;
  error: string | null;
}

/** An endpoint's deliveries, newest first, each with every attempt made. */
export async function listWebhookDeliveries(
  ctx: Pick<ServiceContext, "em">,
  filter: { endpointId?: string; deliveryId?: string; status?: WebhookDeliveryStatus; limit?: number },
): Promise<WebhookDeliveryView[]> {
  if (filter.endpointId) {
    const [exists] = await run(ctx.em, "select 1 from webhook_endpoints where id = ?", [filter.endpointId]);
    if (!exists) throw new NotFound();
  }
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.endpointId) {
    where.push("endpoint_id = ?");
    params.push(filter.endpointId);
  }
  if (filter.deliveryId) {
    where.push("id = ?");
    params.push(filter.deliveryId);
  }
  if (filter.status) {
    where.push("status = ?");
    params.push(filter.status);
  }
  const deliveries = await run<DeliveryRow>(
    ctx.em,
    `select id, endpoint_id, event_id, event_type, tenant_id, status, attempts,
       case when status = 'pending' then ${isoTimestamp("next_attempt_at")} end as next_attempt_at,
       ${isoTimestamp("created_at")} as created_at, ${isoTimestamp("delivered_at")} as delivered_at, last_error
     from webhook_deliveries ${where.length ? `where ${where.join(" and ")}` : ""}
     order by seq desc limit ?`,
    [...params, filter.limit ?? 100],
  );
  const attempts = deliveries.length
    ? await run<AttemptRow>(
        ctx.em,
        `select delivery_id, attempt, ${isoTimestamp("attempted_at")} as attempted_at, succeeded, response_status, latency_ms, error
         from webhook_attempts where delivery_id in (${deliveries.map(() => "?").join(", ")}) order by delivery_id, attempt`,
        deliveries.map((row) => row.id),
      )
    : [];
  return deliveries.map((row) => ({
    id: row.id,
    endpointId: row.endpoint_id,
    eventId: row.event_id,
    eventType: row.event_type,
    tenantId: row.tenant_id,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    createdAt: row.created_at,
    deliveredAt: row.delivered_at,
    lastError: row.last_error,
    attemptLog: attempts
      .filter((attempt) => attempt.delivery_id === row.id)
      .map((attempt) => ({
        attempt: attempt.attempt,
        attemptedAt: attempt.attempted_at,
        succeeded: attempt.succeeded,
        responseStatus: attempt.response_status,
        latencyMs: attempt.latency_ms,
        error: attempt.error,
      })),
  }));
}
