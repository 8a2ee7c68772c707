import { performance } from "node:perf_hooks";
import { type EntityManager, isoTimestamp, type MikroORM } from "@tenantry/db";
import { insertAudit, SYSTEM } from "../domain/audit.js";
import type { Clock } from "../domain/clock.js";
import { redactedUrl } from "../domain/webhooks.js";
import type { Logger } from "../logger.js";
import type { Sealer } from "../mail/sealer.js";
import { Passes } from "../passes.js";
import { type AuditEventRow, eventBody } from "./events.js";
import { signedHeaders } from "./signing.js";

export interface WebhookDeliveryOptions {
  orm: MikroORM;
  sealer: Sealer;
  clock: Clock;
  logger: Logger;
  /** Delays before each retry; after the last, the delivery is `failed` and its endpoint disabled. */
  retryDelaysMs?: number[];
  /** How long one POST may take. */
  timeoutMs?: number;
  /** How long a claimed delivery is reserved for the process that claimed it (longer than a POST may take). */
  leaseMs?: number;
  pollIntervalMs?: number;
  batchSize?: number;
}

/** 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 3 h, 6 h, 12 h: ten tries over about 23 hours. */
export const DEFAULT_WEBHOOK_RETRY_DELAYS_MS = [
  5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 10_800_000, 21_600_000, 43_200_000,
];

interface ClaimedRow extends AuditEventRow {
  delivery_id: string;
  endpoint_id: string;
  event_type: string;
  attempts: number;
  payload: string | null;
  url: string;
  secret_ciphertext: string;
}

interface Outcome {
  succeeded: boolean;
  responseStatus: number | null;
  latencyMs: number;
  error: string | null;
}

const MAX_ERROR_LENGTH = 500;

/**
 * The webhook worker. The database enqueues a delivery for every audit event
 * and matching endpoint in the event's own transaction; this worker claims
 * due ones with `FOR UPDATE SKIP LOCKED` and a lease — only the oldest
 * undelivered delivery of each (endpoint, tenant) sequence, so events reach
 * an endpoint in order per tenant, and no two processes send one at a time —
 * POSTs each one outside any transaction, then records the attempt and the
 * outcome: delivered, a retry with backoff (same `webhook-id`, same body), or
 * after the last retry `failed`, and the endpoint disabled with the reason.
 * A process that dies mid-delivery leaves its claim to expire: another try
 * follows, never a loss.
 */
export class WebhookDelivery {
  private readonly retryDelaysMs: number[];
  private readonly timeoutMs: number;
  private readonly leaseMs: number;
  private readonly batchSize: number;
  private readonly passes: Passes;
  /** Enabled endpoints as of the last poll; while there are none, changes wake no pass. */
  private enabledEndpoints: number | undefined;

  constructor(private readonly options: WebhookDeliveryOptions) {
    this.retryDelaysMs = options.retryDelaysMs ?? DEFAULT_WEBHOOK_RETRY_DELAYS_MS;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.leaseMs = options.leaseMs ?? this.timeoutMs * 2 + 1_000;
    this.batchSize = options.batchSize ?? 20;
    // Each interval looks again at how many endpoints are enabled (another process may have added one).
    this.passes = new Passes(
      () => this.drain(),
      options.pollIntervalMs ?? 1_000,
      () => {
        this.enabledEndpoints = undefined;
      },
    );
  }

  seal(secret: string): string {
    return this.options.sealer.seal(secret);
  }

  /** A change was committed (and so perhaps deliveries): a pass soon, unless no endpoint is enabled. */
  changed(): void {
    if (this.enabledEndpoints !== 0) this.notify();
  }

  /** Endpoints were added or removed here: look again at the next pass. */
  endpointsChanged(): void {
    this.enabledEndpoints = undefined;
  }

  /** Runs a pass soon, off the request path; passes never overlap. */
  notify(): void {
    this.passes.notify();
  }

  /** Polls for due retries and for deliveries that other processes enqueued or left behind; the first pass after `firstPassAfterMs`. */
  start(firstPassAfterMs = 0): void {
    this.passes.start(firstPassAfterMs);
  }

  /** Stops polling and waits for the pass in flight. */
  stop(): Promise<void> {
    return this.passes.stop();
  }

  private async drain(): Promise<void> {
    try {
      if (this.enabledEndpoints === undefined) {
        const [row] = await this.options.orm.em
          .getConnection()
          .execute<{ n: number }[]>("select count(*)::int as n from webhook_endpoints where enabled");
        this.enabledEndpoints = Number(row?.n ?? 0);
      }
      // Each pass sends the head of each sequence; the next of a sequence becomes due once it is done.
      while (!this.passes.stopped && (await this.runOnce()) > 0) {
        // more may be due
      }
    } catch (error) {
      this.options.logger.error({ err: error }, "webhook delivery pass failed");
    }
  }

  /** Claims and sends what is due now (or only `deliveryId`); returns how many it handled. */
  async runOnce(deliveryId?: string): Promise<number> {
    const claimed = await this.claim(this.options.clock.now(), deliveryId);
    await Promise.all(claimed.map((row) => this.deliver(row)));
    return claimed.length;
  }

  private claim(now: Date, deliveryId: string | undefined): Promise<ClaimedRow[]> {
    return this.options.orm.em.getConnection().execute<ClaimedRow[]>(
      `with heads as (
         select distinct on (endpoint_id, sequence_key) id
         from webhook_deliveries
         where status = 'pending'
         order by endpoint_id, sequence_key, seq
       ), due as (
         select d.id from webhook_deliveries d
         join heads on heads.id = d.id
         join webhook_endpoints e on e.id = d.endpoint_id
         where d.status = 'pending' and d.next_attempt_at <= ? ${deliveryId ? "and d.id = ?" : ""}
           and (e.enabled or d.event_type = 'webhook.tested')
         order by d.next_attempt_at, d.seq
         limit ?
         for update of d skip locked
       ), claimed as (
         update webhook_deliveries d set attempts = d.attempts + 1, next_attempt_at = ?
         from due where d.id = due.id
         returning d.id, d.endpoint_id, d.event_id, d.event_type, d.attempts, d.payload
       )
       select c.id as delivery_id, c.endpoint_id, c.event_type, c.attempts, c.payload, e.url, e.secret_ciphertext,
         a.id, ${isoTimestamp("a.occurred_at")} as occurred_at, a.actor_type, a.actor_id, a.tenant_id, a.action,
         a.target_type, a.target_id, a.details
       from claimed c
       join webhook_endpoints e on e.id = c.endpoint_id
       join audit_events a on a.id = c.event_id`,
      [now, ...(deliveryId ? [deliveryId] : []), this.batchSize, new Date(now.getTime() + this.leaseMs)],
    );
  }

  private async deliver(row: ClaimedRow): Promise<void> {
    const body = row.payload ?? eventBody(row);
    const secret = this.options.sealer.open(row.secret_ciphertext);
    const outcome: Outcome =
      secret === null
        ? {
            succeeded: false,
            responseStatus: null,
            latencyMs: 0,
            error: "The signing secret cannot be opened: the server key changed.",
          }
        : await this.post(row, secret, body);
    try {
      await this.finish(row, body, outcome);
    } catch (error) {
      // The claim expires and another attempt follows.
      this.options.logger.error({ err: error, deliveryId: row.delivery_id }, "recording a webhook attempt failed");
    }
  }

  private async post(row: ClaimedRow, secret: string, body: string): Promise<Outcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const response = await fetch(row.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "Tenantry-Webhooks/1",
          ...signedHeaders(secret, row.delivery_id, this.options.clock.now(), body),
        },
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await response.body?.cancel().catch(() => {});
      const succeeded = response.status >= 200 && response.status < 300;
      return {
        succeeded,
        responseStatus: response.status,
        latencyMs: elapsed(),
        error: succeeded ? null : `The endpoint answered HTTP ${response.status}.`,
      };
    } catch (error) {
      return { succeeded: false, responseStatus: null, latencyMs: elapsed(), error: describe(error, this.timeoutMs) };
    }
  }

  /** Records the attempt and its consequence in one transaction. */
  private async finish(row: ClaimedRow, body: string, outcome: Outcome): Promise<void> {
    const { clock, logger } = this.options;
    const now = clock.now();
    const isTest = row.event_type === "webhook.tested";
    const delay = isTest ? undefined : this.retryDelaysMs[row.attempts - 1];
    const log = { deliveryId: row.delivery_id, endpointId: row.endpoint_id, eventType: row.event_type };
    await this.options.orm.em.fork().transactional(async (em) => {
      const exec = (sql: string, params: unknown[]) =>
        em.getConnection().execute(sql, params, "all", em.getTransactionContext());
      await exec(
        `insert into webhook_attempts (delivery_id, attempt, attempted_at, succeeded, response_status, latency_ms, error)
         values (?, ?, ?, ?, ?, ?, ?) on conflict (delivery_id, attempt) do nothing`,
        [
          row.delivery_id,
          row.attempts,
          now,
          outcome.succeeded,
          outcome.responseStatus,
          outcome.latencyMs,
          outcome.error,
        ],
      );
      if (outcome.succeeded) {
        await exec(
          `update webhook_deliveries set status = 'delivered', delivered_at = ?, payload = coalesce(payload, ?),
             last_error = null where id = ? and status = 'pending'`,
          [now, body, row.delivery_id],
        );
        // A test that reaches a disabled endpoint brings it back.
        if (isTest) {
          await exec("update webhook_endpoints set enabled = true, disabled_reason = null where id = ?", [
            row.endpoint_id,
          ]);
        }
        logger.debug({ ...log, attempt: row.attempts, latencyMs: outcome.latencyMs }, "webhook delivered");
      } else if (delay !== undefined) {
        await exec(
          `update webhook_deliveries set next_attempt_at = ?, payload = coalesce(payload, ?), last_error = ?
           where id = ? and status = 'pending'`,
          [new Date(now.getTime() + delay), body, outcome.error, row.delivery_id],
        );
        logger.warn(
          { ...log, attempt: row.attempts, reason: outcome.error, retryInMs: delay },
          "webhook delivery will be retried",
        );
      } else {
        await exec(
          `update webhook_deliveries set status = 'failed', payload = coalesce(payload, ?), last_error = ?
           where id = ? and status = 'pending'`,
          [body, outcome.error, row.delivery_id],
        );
        logger.error({ ...log, attempts: row.attempts, reason: outcome.error }, "webhook delivery failed");
        if (!isTest) await this.disable(em, row, outcome, now);
      }
    });
    if (outcome.succeeded && isTest) this.endpointsChanged();
  }

  private async disable(em: EntityManager, row: ClaimedRow, outcome: Outcome, now: Date): Promise<void> {
    const reason = `Disabled at ${now.toISOString()} after ${row.attempts} failed attempts to deliver event ${row.id} (${row.event_type}): ${outcome.error}`;
    const changed = await em
      .getConnection()
      .execute<{ id: string }[]>(
        "update webhook_endpoints set enabled = false, disabled_reason = ? where id = ? and enabled returning id",
        [reason, row.endpoint_id],
        "all",
        em.getTransactionContext(),
      );
    if (changed.length === 0) return;
    this.endpointsChanged();
    this.options.logger.error({ endpointId: row.endpoint_id, reason }, "webhook endpoint disabled");
    await insertAudit(
      em,
      SYSTEM,
      {
        action: "webhook.disabled",
        tenantId: null,
        target: { type: "webhook_endpoint", id: row.endpoint_id },
        details: {
          url: redactedUrl(row.url),
          deliveryId: row.delivery_id,
          eventId: row.id,
          attempts: row.attempts,
          reason: outcome.error,
        },
      },
      now,
    );
  }
}

/** What went wrong, in words that hold no secret (never the URL, which may carry credentials). */
function describe(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return `The endpoint did not answer within ${timeoutMs} ms.`;
  }
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const text = cause?.code
    ? `The request failed: ${cause.code}.`
    : `The request failed: ${cause?.message ?? (error instanceof Error ? error.message : String(error))}.`;
  return text.slice(0, MAX_ERROR_LENGTH);
}
