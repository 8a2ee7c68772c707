import type { Invitation, MikroORM, Role } from "@tenantry/db";
import { insertAudit, SYSTEM } from "../domain/audit.js";
import type { Clock } from "../domain/clock.js";
import type { InvitationMailbox } from "../domain/context.js";
import type { Logger } from "../logger.js";
import { withTimeout } from "../timeout.js";
import type { InvitationEmailHook } from "./hook.js";
import type { Sealer } from "./sealer.js";

export interface DeliveryOptions {
  orm: MikroORM;
  hook: InvitationEmailHook;
  sealer: Sealer;
  clock: Clock;
  logger: Logger;
  /** The accept link is `${acceptUrlBase}#token=…` (a fragment: it never reaches a server log). */
  acceptUrlBase: string;
  /** Delays before each retry; after the last, delivery is `failed`. */
  retryDelaysMs?: number[];
  /** How long a claimed delivery is reserved for the process that claimed it. */
  leaseMs?: number;
  /** How long one hook call may take. */
  hookTimeoutMs?: number;
  pollIntervalMs?: number;
  batchSize?: number;
}

/** 5 s, 30 s, 2 min, 10 min, 30 min: six tries over about 43 minutes. */
export const DEFAULT_RETRY_DELAYS_MS = [5_000, 30_000, 120_000, 600_000, 1_800_000];

type DeliveryStatus = Invitation["emailDelivery"];

interface ClaimedRow {
  id: string;
  email: string;
  role: Role | null;
  expires_at: Date;
  delivery_attempts: number;
  delivery_token_ciphertext: string;
  tenant_id: string;
  tenant_name: string;
  tenant_slug: string;
}

/**
 * Matches an invitation only while it still holds the claim a worker made:
 * the same sealed token (a resend or a revoke replaces or drops it) and the
 * same attempt (a claim taken over after its lease expired counts one more).
 * A worker's late outcome for a delivery that was superseded changes nothing.
 */
const STILL_CLAIMED =
  "id = ? and email_delivery = 'pending' and delivery_token_ciphertext = ? and delivery_attempts = ?";

function claimOf(row: ClaimedRow): [string, string, number] {
  return [row.id, row.delivery_token_ciphertext, row.delivery_attempts];
}

/**
 * The invitation email outbox. Invitations are committed with delivery
 * `pending` and the token sealed; this worker claims due deliveries with
 * `FOR UPDATE SKIP LOCKED` and a lease (so two processes never send one
 * email twice, and a crashed one's claim comes back), calls the hook outside
 * any transaction, then records `sent`, or a retry with backoff, or `failed`.
 * The sealed token is dropped once delivery ends either way. An outcome is
 * recorded only against the claim it belongs to (`STILL_CLAIMED`).
 */
export class InvitationDelivery implements InvitationMailbox {
  private readonly retryDelaysMs: number[];
  private readonly leaseMs: number;
  private readonly hookTimeoutMs: number;
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;

  constructor(private readonly options: DeliveryOptions) {
    this.retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.leaseMs = options.leaseMs ?? 120_000;
    this.hookTimeoutMs = options.hookTimeoutMs ?? 30_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 2_000;
    this.batchSize = options.batchSize ?? 20;
  }

  seal(token: string): string {
    return this.options.sealer.seal(token);
  }

  /** Runs a pass soon, off the request path; passes never overlap. */
  notify(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.notify();
      }
    });
  }

  /** Polls for due retries (and for deliveries other processes left behind). */
  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.notify(), this.pollIntervalMs);
    this.timer.unref();
    this.notify();
  }

  /** Stops polling and waits for the pass in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (!this.stopped && (await this.runOnce()) === this.batchSize) {
        // a full batch: there may be more
      }
    } catch (error) {
      this.options.logger.error({ err: error }, "invitation email delivery pass failed");
    }
  }

  /** Claims and delivers what is due now (or only `invitationId`'s email); returns how many it handled. */
  async runOnce(invitationId?: string): Promise<number> {
    const now = this.options.clock.now();
    const claimed = await this.claim(now, invitationId);
    for (const row of claimed) await this.deliver(row);
    return claimed.length;
  }

  /**
   * Delivers one invitation's email now if it is due (the CLI's resend):
   * its delivery status after this attempt (`pending` when it will be
   * retried), or undefined when there was nothing to claim here.
   */
  async deliverNow(invitationId: string): Promise<DeliveryStatus | undefined> {
    const [row] = await this.claim(this.options.clock.now(), invitationId);
    return row ? this.deliver(row) : undefined;
  }

  private claim(now: Date, invitationId: string | undefined): Promise<ClaimedRow[]> {
    return this.options.orm.em.getConnection().execute<ClaimedRow[]>(
      `with due as (
         select id from invitations
         where email_delivery = 'pending' and state = 'pending' and delivery_token_ciphertext is not null
           and delivery_next_attempt_at <= ? ${invitationId ? "and id = ?" : ""}
         order by delivery_next_attempt_at
         limit ?
         for update skip locked
       ), claimed as (
         update invitations i set delivery_attempts = i.delivery_attempts + 1, delivery_next_attempt_at = ?
         from due where i.id = due.id
         returning i.id, i.email, i.role, i.expires_at, i.delivery_attempts, i.delivery_token_ciphertext, i.tenant_id
       )
       select claimed.*, t.name as tenant_name, t.slug as tenant_slug
       from claimed join tenants t on t.id = claimed.tenant_id`,
      [now, ...(invitationId ? [invitationId] : []), this.batchSize, new Date(now.getTime() + this.leaseMs)],
    );
  }

  private async deliver(row: ClaimedRow): Promise<DeliveryStatus> {
    const { logger, sealer, hook, acceptUrlBase } = this.options;
    const token = sealer.open(row.delivery_token_ciphertext);
    if (token === null) {
      // Retrying cannot help: only a resend (sealing a new token with this key) can.
      const reason = "The sealed token cannot be opened: the server key changed.";
      logger.error({ invitationId: row.id, attempts: row.delivery_attempts, reason }, "invitation email failed");
      await this.finish(row, "failed", reason);
      return "failed";
    }
    try {
      await withTimeout(
        Promise.resolve(
          hook({
            invitationId: row.id,
            to: row.email,
            tenant: { id: row.tenant_id, name: row.tenant_name, slug: row.tenant_slug },
            role: row.role,
            expiresAt: new Date(row.expires_at).toISOString(),
            acceptUrl: `${acceptUrlBase}#token=${encodeURIComponent(token)}`,
            attempt: row.delivery_attempts,
          }),
        ),
        this.hookTimeoutMs,
        `the hook did not finish within ${this.hookTimeoutMs} ms`,
      );
    } catch (error) {
      // Never keep or log the token, even if the hook's error quotes it.
      const reason = (error instanceof Error ? error.message : String(error))
        .split(token)
        .join("[token]")
        .slice(0, 500);
      const delay = this.retryDelaysMs[row.delivery_attempts - 1];
      if (delay === undefined) {
        logger.error({ invitationId: row.id, attempts: row.delivery_attempts, reason }, "invitation email failed");
        await this.finish(row, "failed", reason);
      } else {
        logger.warn(
          { invitationId: row.id, attempts: row.delivery_attempts, reason, retryInMs: delay },
          "invitation email will be retried",
        );
        await this.options.orm.em
          .getConnection()
          .execute(
            `update invitations set delivery_next_attempt_at = ?, delivery_last_error = ? where ${STILL_CLAIMED}`,
            [new Date(this.options.clock.now().getTime() + delay), reason, ...claimOf(row)],
          );
      }
      return delay === undefined ? "failed" : "pending";
    }
    await this.finish(row, "sent", null);
    return "sent";
  }

  /** Records the outcome; a failure is audited in the same transaction. */
  private finish(row: ClaimedRow, outcome: "sent" | "failed", reason: string | null): Promise<unknown> {
    return this.options.orm.em.fork().transactional(async (em) => {
      const changed = await em.getConnection().execute(
        `update invitations set email_delivery = ?, delivery_last_error = ?,
           delivery_token_ciphertext = null, delivery_next_attempt_at = null
         where ${STILL_CLAIMED} returning id`,
        [outcome, reason, ...claimOf(row)],
        "all",
        em.getTransactionContext(),
      );
      if (outcome === "failed" && (changed as unknown[]).length > 0) {
        await insertAudit(
          em,
          SYSTEM,
          {
            action: "email.delivery_failed",
            tenantId: row.tenant_id,
            target: { type: "invitation", id: row.id },
            details: { email: row.email, attempts: row.delivery_attempts, reason },
          },
          this.options.clock.now(),
        );
      }
    });
  }
}
