import { createHash } from "node:crypto";
import type { MikroORM } from "@tenantry/db";
import type { Clock } from "./domain/clock.js";
import { Throttled } from "./domain/errors.js";

export interface ThrottleRule {
  name: string;
  limit: number;
  windowSeconds: number;
}

/** Limits on the procedures anyone may call. */
export const THROTTLE_RULES = {
  tenantCreatePerIp: { name: "tenant.create/ip", limit: 10, windowSeconds: 3600 },
  loginPerIp: { name: "auth.login/ip", limit: 30, windowSeconds: 60 },
  loginPerEmail: { name: "auth.login/email", limit: 10, windowSeconds: 300 },
  acceptPerIp: { name: "invite.accept/ip", limit: 20, windowSeconds: 60 },
  passwordChangePerIp: { name: "auth.changePassword/ip", limit: 30, windowSeconds: 60 },
  passwordChangePerUser: { name: "auth.changePassword/user", limit: 10, windowSeconds: 300 },
  passwordResetPerIp: { name: "auth.requestPasswordReset/ip", limit: 20, windowSeconds: 900 },
  passwordResetPerEmail: { name: "auth.requestPasswordReset/email", limit: 5, windowSeconds: 3600 },
  passwordResetConfirmPerIp: { name: "auth.confirmPasswordReset/ip", limit: 20, windowSeconds: 60 },
  previewPerIp: { name: "invite.preview/ip", limit: 30, windowSeconds: 60 },
} as const satisfies Record<string, ThrottleRule>;

/**
 * Fixed-window counters in PostgreSQL, so every server process on the
 * database shares them. One upsert per check: it starts a new window or
 * counts one more hit in the current one, atomically.
 */
export class Throttle {
  constructor(
    private readonly orm: MikroORM,
    private readonly clock: Clock,
    readonly enabled: boolean,
  ) {}

  /** Counts one call by `subject` under `rule`; throws `Throttled` past the limit. */
  async hit(rule: ThrottleRule, subject: string): Promise<void> {
    if (!this.enabled) return;
    const now = this.clock.now().getTime();
    const windowMs = rule.windowSeconds * 1000;
    const windowStart = new Date(Math.floor(now / windowMs) * windowMs);
    // Subjects include email addresses: keep only a digest of them.
    const key = `${rule.name}:${createHash("sha256").update(subject).digest("base64url")}`;
    const rows = await this.orm.em.getConnection().execute<{ hits: number }[]>(
      `insert into throttle_counters (key, window_start, hits) values (?, ?, 1)
       on conflict (key) do update set
         hits = case when throttle_counters.window_start = excluded.window_start
                     then throttle_counters.hits + 1 else 1 end,
         window_start = excluded.window_start
       returning hits`,
      [key, windowStart],
    );
    const hits = Number(rows[0]?.hits ?? 0);
    if (hits > rule.limit) {
      throw new Throttled(Math.max(1, Math.ceil((windowStart.getTime() + windowMs - now) / 1000)));
    }
  }

  /** Drops counters whose window ended long ago. */
  async prune(olderThanSeconds = 24 * 3600): Promise<number> {
    const cutoff = new Date(this.clock.now().getTime() - olderThanSeconds * 1000);
    const result = await this.orm.em
      .getConnection()
      .execute("delete from throttle_counters where window_start < ?", [cutoff], "run");
    return (result as { affectedRows?: number }).affectedRows ?? 0;
  }
}
