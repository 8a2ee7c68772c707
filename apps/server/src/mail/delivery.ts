import { type MikroORM, type Role, runStatement, withParts } from "@tenantry/db";
import { type AuditRecord, auditInsertSql, SYSTEM } from "../domain/audit.js";
import type { Clock } from "../domain/clock.js";
import type { InvitationMailbox, MailKind } from "../domain/context.js";
import type { Logger } from "../logger.js";
import { Passes } from "../passes.js";
import { withTimeout } from "../timeout.js";
import type { InvitationEmailHook, PasswordResetEmailHook } from "./hook.js";
import type { Sealer } from "./sealer.js";

export interface DeliveryOptions {
  orm: MikroORM;
  sealer: Sealer;
  clock: Clock;
  logger: Logger;
  /** The kinds of email this worker delivers, each waiting on its own table. */
  kinds: EmailKind[];
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

type DeliveryStatus = "pending" | "sent" | "failed";

/** What every claimed row holds, whatever its kind. */
interface ClaimedRow {
  id: string;
  email: string;
  expires_at: Date;
  delivery_attempts: number;
  delivery_token_ciphertext: string;
  tenant_id: string | null;
  tenant_name: string | null;
  tenant_slug: string | null;
}

/**
 * One kind of email whose outbox lives on the rows of one table: the table has
 * `email`, `expires_at`, `tenant_id`, `email_delivery`, `delivery_attempts`,
 * `delivery_next_attempt_at`, `delivery_last_error` and
 * `delivery_token_ciphertext` columns.
 */
export interface EmailKind<Row extends ClaimedRow = ClaimedRow> {
  /** In log messages: "invitation email". */
  label: string;
  table: string;
  /** The log field naming the row: "invitationId". */
  idField: string;
  /** What else keeps a row's email due (SQL on the table's columns). */
  dueWhen: string;
  /** Columns the claim returns besides the common ones (`r.` is the table). */
  extraColumns: string;
  /** The audit target a final failure names. */
  targetType: NonNullable<AuditRecord["target"]>["type"];
  /** Calls the deployment's hook with the email for `row`, its plain token in hand. */
  send(row: Row, token: string): unknown;
}

/** Invitations: due while the invitation is pending. */
export function invitationEmails(hook: InvitationEmailHook, acceptUrlBase: string): EmailKind {
  const kind: EmailKind<ClaimedRow & { role: Role | null; tenant_id: string }> = {
    label: "invitation email",
    table: "invitations",
    idField: "invitationId",
    dueWhen: "state = 'pending'",
    extraColumns: "r.role",
    targetType: "invitation",
    send: (row, token) =>
      hook({
        invitationId: row.id,
        to: row.email,
        tenant: { id: row.tenant_id, name: row.tenant_name ?? "", slug: row.tenant_slug ?? "" },
        role: row.role,
        expiresAt: new Date(row.expires_at).toISOString(),
        acceptUrl: `${acceptUrlBase}#token=${encodeURIComponent(token)}`,
        attempt: row.delivery_attempts,
      }),
  };
  return kind as EmailKind;
}

/** Password resets: due while the reset is neither used nor superseded. */
export function passwordResetEmails(hook: PasswordResetEmailHook, resetUrlBase: string): EmailKind {
  return {
    label: "password reset email",
    table: "password_resets",
    idField: "passwordResetId",
    dueWhen: "used_at is null and superseded_at is null",
    extraColumns: "r.user_id",
    targetType: "password_reset",
    send: (row, token) =>
      hook({
        passwordResetId: row.id,
        to: row.email,
        tenant:
          row.tenant_id === null
            ? null
            : { id: row.tenant_id, name: row.tenant_name ?? "", slug: row.tenant_slug ?? "" },
        expiresAt: new Date(row.expires_at).toISOString(),
        resetUrl: `${resetUrlBase}#token=${encodeURIComponent(token)}`,
        attempt: row.delivery_attempts,
      }),
  };
}

/**
 * Matches a row only while it still holds the claim a worker made: the same
 * sealed token (a resend, a newer reset or a revoke replaces or drops it) and
 * the same attempt (a claim taken over after its lease expired counts one
 * more). A worker's late outcome for a delivery that was superseded changes
 * nothing.
 */
const STILL_CLAIMED =
  "id = ? and email_delivery = 'pending' and delivery_token_ciphertext = ? and delivery_attempts = ?";

function claimOf(row: ClaimedRow): [string, string, number] {
  return [row.id, row.delivery_token_ciphertext, row.delivery_attempts];
}

/**
 * The email outbox, for every kind of email. Rows are committed with delivery
 * `pending` and the token sealed; this worker claims due deliveries with
 * `FOR UPDATE SKIP LOCKED` and a lease (so two processes never send one
 * email twice, and a crashed one's claim comes back), calls the hook outside
 * any transaction, then records `sent`, or a retry with backoff, or `failed`.
 * The sealed token is dropped once delivery ends either way. An outcome is
 * recorded only against the claim it belongs to (`STILL_CLAIMED`).
 */
export class EmailDelivery implements InvitationMailbox {
  private readonly retryDelaysMs: number[];
  private readonly leaseMs: number;
  private readonly hookTimeoutMs: number;
  private readonly batchSize: number;
  private readonly passes: Passes;
  /** The kinds the next pass looks at: those notified since the last one began, or every kind when it polls. */
  private readonly due = new Set<EmailKind>();

  constructor(private readonly options: DeliveryOptions) {
    this.retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.leaseMs = options.leaseMs ?? 120_000;
    this.hookTimeoutMs = options.hookTimeoutMs ?? 30_000;
    this.batchSize = options.batchSize ?? 20;
    this.passes = new Passes(
      () => this.drain(),
      options.pollIntervalMs ?? 2_000,
      () => this.dueAll(),
    );
  }

  private dueAll(): void {
    for (const kind of this.options.kinds) this.due.add(kind);
  }

  seal(token: string): string {
    return this.options.sealer.seal(token);
  }

  /** Runs a pass over this kind of email soon, off the request path; passes never overlap. */
  notify(kind: MailKind): void {
    for (const each of this.options.kinds) if (each.targetType === kind) this.due.add(each);
    this.passes.notify();
  }

  /** Polls for due retries (and for deliveries other processes left behind); the first pass after `firstPassAfterMs`. */
  start(firstPassAfterMs = 0): void {
    this.dueAll();
    this.passes.start(firstPassAfterMs);
  }

  /** Stops polling and waits for the pass in flight. */
  stop(): Promise<void> {
    return this.passes.stop();
  }

  private async drain(): Promise<void> {
    const kinds = this.options.kinds.filter((kind) => this.due.has(kind));
    this.due.clear();
    try {
      while (!this.passes.stopped && (await this.pass(kinds)).full) {
        // a full batch of some kind: there may be more
      }
    } catch (error) {
      this.options.logger.error({ err: error }, "email delivery pass failed");
    }
  }

  /** Claims and delivers what is due now (or only row `id`'s email); returns how many it handled. */
  async runOnce(id?: string): Promise<number> {
    return (await this.pass(this.options.kinds, id)).handled;
  }

  private async pass(kinds: EmailKind[], id?: string): Promise<{ handled: number; full: boolean }> {
    let handled = 0;
    let full = false;
    for (const kind of kinds) {
      const claimed = await this.claim(kind, this.options.clock.now(), id);
      for (const row of claimed) await this.deliver(kind, row);
      handled += claimed.length;
      full ||= claimed.length === this.batchSize;
    }
    return { handled, full };
  }

  private claim(kind: EmailKind, now: Date, id: string | undefined): Promise<ClaimedRow[]> {
    return runStatement<ClaimedRow>(
      this.options.orm.em,
      `with due as (
         select id from ${kind.table}
         where email_delivery = 'pending' and ${kind.dueWhen} and delivery_token_ciphertext is not null
           and delivery_next_attempt_at <= ? ${id ? "and id = ?" : ""}
         order by delivery_next_attempt_at
         limit ?
         for update skip locked
       ), claimed as (
         update ${kind.table} r set delivery_attempts = r.delivery_attempts + 1, delivery_next_attempt_at = ?
         from due where r.id = due.id
         returning r.id, r.email, r.expires_at, r.delivery_attempts, r.delivery_token_ciphertext, r.tenant_id,
           ${kind.extraColumns}
       )
       select claimed.*, t.name as tenant_name, t.slug as tenant_slug
       from claimed left join tenants t on t.id = claimed.tenant_id`,
      [now, ...(id ? [id] : []), this.batchSize, new Date(now.getTime() + this.leaseMs)],
    );
  }

  /**
   * Delivers one row's email now if it is due (the CLI's resend and reset):
   * its delivery status after this attempt (`pending` when it will be
   * retried), or undefined when there was nothing to claim here.
   */
  async deliverNow(id: string): Promise<DeliveryStatus | undefined> {
    for (const kind of this.options.kinds) {
      const [row] = await this.claim(kind, this.options.clock.now(), id);
      if (row) return this.deliver(kind, row);
    }
    return undefined;
  }

  private async deliver(kind: EmailKind, row: ClaimedRow): Promise<DeliveryStatus> {
    const { logger, sealer } = this.options;
    const token = sealer.open(row.delivery_token_ciphertext);
    if (token === null) {
      // Retrying cannot help: only a new token sealed with this key can.
      const reason = "The sealed token cannot be opened: the server key changed.";
      logger.error({ [kind.idField]: row.id, attempts: row.delivery_attempts, reason }, `${kind.label} failed`);
      await this.finish(kind, row, "failed", reason);
      return "failed";
    }
    try {
      await withTimeout(
        Promise.resolve(kind.send(row, token)),
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
        logger.error({ [kind.idField]: row.id, attempts: row.delivery_attempts, reason }, `${kind.label} failed`);
        await this.finish(kind, row, "failed", reason);
        return "failed";
      }
      logger.warn(
        { [kind.idField]: row.id, attempts: row.delivery_attempts, reason, retryInMs: delay },
        `${kind.label} will be retried`,
      );
      await this.options.orm.em
        .getConnection()
        .execute(
          `update ${kind.table} set delivery_next_attempt_at = ?, delivery_last_error = ? where ${STILL_CLAIMED}`,
          [new Date(this.options.clock.now().getTime() + delay), reason, ...claimOf(row)],
        );
      return "pending";
    }
    await this.finish(kind, row, "sent", null);
    return "sent";
  }

  /** Records the outcome; a failure is audited in the same statement. */
  private async finish(
    kind: EmailKind,
    row: ClaimedRow,
    outcome: "sent" | "failed",
    reason: string | null,
  ): Promise<void> {
    const update = {
      sql: `update ${kind.table} set email_delivery = ?, delivery_last_error = ?,
              delivery_token_ciphertext = null, delivery_next_attempt_at = null
            where ${STILL_CLAIMED} returning id`,
      params: [outcome, reason, ...claimOf(row)],
    };
    const statement =
      outcome === "sent"
        ? update
        : withParts(
            [["changed", update]],
            auditInsertSql(
              SYSTEM,
              {
                action: "email.delivery_failed",
                tenantId: row.tenant_id,
                target: { type: kind.targetType, id: row.id },
                details: { email: row.email, attempts: row.delivery_attempts, reason },
              },
              this.options.clock.now(),
              { from: "changed" },
            ),
          );
    await runStatement(this.options.orm.em, statement.sql, statement.params);
  }
}
