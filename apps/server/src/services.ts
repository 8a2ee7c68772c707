import { join } from "node:path";
import type { Database } from "@tenantry/db";
import { type Clock, systemClock } from "./domain/clock.js";
import type { Env } from "./env.js";
import type { Logger } from "./logger.js";
import { InvitationDelivery } from "./mail/delivery.js";
import { type InvitationEmailHook, loadInvitationEmailHook, logInvitationEmail } from "./mail/hook.js";
import { createSealer, loadServerKey } from "./mail/sealer.js";
import { Throttle } from "./throttle.js";
import type { AppServices } from "./trpc/context.js";

export interface RunningServices {
  services: AppServices;
  delivery: InvitationDelivery;
  /** Starts the background work: email delivery and throttle-counter pruning. */
  start(): void;
  /** Stops it, waiting for a delivery pass in flight. */
  stop(): Promise<void>;
}

export interface ServiceOverrides {
  clock?: Clock;
  hook?: InvitationEmailHook;
  key?: Buffer;
  retryDelaysMs?: number[];
}

const PRUNE_INTERVAL_MS = 10 * 60 * 1000;

/** Wires the long-lived services from the environment; tests may swap the clock, hook and key. */
export async function createServices(
  env: Env,
  db: Database,
  logger: Logger,
  overrides: ServiceOverrides = {},
): Promise<RunningServices> {
  const clock = overrides.clock ?? systemClock;
  const hook =
    overrides.hook ??
    (env.invitationEmailHook ? await loadInvitationEmailHook(env.invitationEmailHook) : logInvitationEmail(logger));
  const key = overrides.key ?? loadServerKey(env.secretKey, join(env.dataDir, "secret.key"));
  const delivery = new InvitationDelivery({
    orm: db.orm,
    hook,
    sealer: createSealer(key),
    clock,
    logger,
    acceptUrlBase: `${env.appUrl}/accept-invite`,
    retryDelaysMs: overrides.retryDelaysMs,
  });
  const throttle = new Throttle(db.orm, clock, env.throttle);
  let pruner: NodeJS.Timeout | undefined;
  return {
    services: { orm: db.orm, clock, mailbox: delivery, throttle, logger },
    delivery,
    start() {
      delivery.start();
      pruner = setInterval(() => {
        throttle.prune().catch((error: unknown) => logger.warn({ err: error }, "pruning throttle counters failed"));
      }, PRUNE_INTERVAL_MS);
      pruner.unref();
    },
    async stop() {
      clearInterval(pruner);
      await delivery.stop();
    },
  };
}
