import { join } from "node:path";
import type { Database, MikroORM } from "@tenantry/db";
import { SYSTEM } from "./domain/audit.js";
import { type Clock, systemClock } from "./domain/clock.js";
import type { InvitationMailbox } from "./domain/context.js";
import { purgeInvitations } from "./domain/invitations.js";
import type { Env } from "./env.js";
import type { Logger } from "./logger.js";
import { EmailDelivery, invitationEmails, passwordResetEmails } from "./mail/delivery.js";
import { type InvitationEmailHook, loadEmailHooks, logEmailHooks, type PasswordResetEmailHook } from "./mail/hook.js";
import { createSealer, loadServerKey } from "./mail/sealer.js";
import { Throttle } from "./throttle.js";
import { WebhookDelivery } from "./webhooks/delivery.js";

/** Long-lived pieces every request shares. */
export interface AppServices {
  orm: MikroORM;
  clock: Clock;
  mailbox: InvitationMailbox;
  /** Webhook delivery: seals signing secrets, is told when changes commit. */
  webhooks: WebhookDelivery;
  throttle: Throttle;
  logger: Logger;
  /** How long expired and revoked invitations are kept before a purge removes them. */
  retentionDays: number;
}

export interface RunningServices {
  services: AppServices;
  delivery: EmailDelivery;
  webhooks: WebhookDelivery;
  /**
   * Starts the background work: email and webhook delivery, throttle-counter
   * pruning and (if configured) the purge. The first delivery passes may wait
   * `firstPassAfterMs` (work notified meanwhile goes out at once).
   */
  start(options?: { firstPassAfterMs?: number }): void;
  /** Stops it, waiting for a delivery pass or a purge in flight. */
  stop(): Promise<void>;
}

export interface ServiceOverrides {
  clock?: Clock;
  hook?: InvitationEmailHook;
  resetHook?: PasswordResetEmailHook;
  key?: Buffer;
  retryDelaysMs?: number[];
  hookTimeoutMs?: number;
  leaseMs?: number;
  webhookRetryDelaysMs?: number[];
  webhookTimeoutMs?: number;
}

const PRUNE_INTERVAL_MS = 10 * 60 * 1000;

/**
 * Wires the long-lived services from the environment; tests may swap the
 * clock, hook, key and delivery timings. Queries nothing until started, so
 * the ORM may still be connecting.
 */
export async function createServices(
  env: Env,
  db: Pick<Database, "orm">,
  logger: Logger,
  overrides: ServiceOverrides = {},
): Promise<RunningServices> {
  const clock = overrides.clock ?? systemClock;
  const hooks = env.emailHook ? await loadEmailHooks(env.emailHook, logger) : logEmailHooks(logger);
  const key = overrides.key ?? loadServerKey(env.secretKey, join(env.dataDir, "secret.key"));
  const sealer = createSealer(key);
  const delivery = new EmailDelivery({
    orm: db.orm,
    sealer,
    clock,
    logger,
    kinds: [
      invitationEmails(overrides.hook ?? hooks.sendInvitationEmail, `${env.appUrl}/accept-invite`),
      passwordResetEmails(overrides.resetHook ?? hooks.sendPasswordResetEmail, `${env.appUrl}/reset-password`),
    ],
    retryDelaysMs: overrides.retryDelaysMs,
    hookTimeoutMs: overrides.hookTimeoutMs,
    leaseMs: overrides.leaseMs,
  });
  const webhooks = new WebhookDelivery({
    orm: db.orm,
    sealer,
    clock,
    logger,
    retryDelaysMs: overrides.webhookRetryDelaysMs,
    timeoutMs: overrides.webhookTimeoutMs ?? env.webhookTimeoutSeconds * 1000,
  });
  const throttle = new Throttle(db.orm, clock, env.throttle);
  let pruner: NodeJS.Timeout | undefined;
  let purger: NodeJS.Timeout | undefined;
  let purging: Promise<void> | undefined;
  const purge = async () => {
    const result = await purgeInvitations(
      { em: db.orm.em.fork(), clock, audit: SYSTEM },
      { tenantId: null },
      { olderThanDays: env.retentionDays, dryRun: false },
    );
    if (result.purged) logger.info({ ...result }, "purged old invitations");
  };
  /** One purge at a time; `stop` waits for the one in flight. */
  const purgeNow = () => {
    purging ??= purge()
      .catch((error: unknown) => logger.warn({ err: error }, "purging invitations failed"))
      .finally(() => {
        purging = undefined;
      });
  };
  return {
    services: { orm: db.orm, clock, mailbox: delivery, webhooks, throttle, logger, retentionDays: env.retentionDays },
    delivery,
    webhooks,
    start({ firstPassAfterMs = 0 } = {}) {
      delivery.start(firstPassAfterMs);
      webhooks.start(firstPassAfterMs);
      pruner = setInterval(() => {
        throttle.prune().catch((error: unknown) => logger.warn({ err: error }, "pruning throttle counters failed"));
      }, PRUNE_INTERVAL_MS);
      pruner.unref();
      if (env.purgeIntervalMinutes > 0) {
        purger = setInterval(purgeNow, env.purgeIntervalMinutes * 60_000);
        purger.unref();
      }
    },
    async stop() {
      clearInterval(pruner);
      clearInterval(purger);
      await Promise.all([delivery.stop(), webhooks.stop(), purging]);
    },
  };
}
