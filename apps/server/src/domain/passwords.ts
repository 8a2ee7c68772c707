import { hashPassword, passwordProblems, verifyPassword } from "@tenantry/auth";
import type { EntityManager } from "@tenantry/db";
import { insertAudit } from "./audit.js";
import type { SessionCaller } from "./caller.js";
import type { ServiceContext } from "./context.js";
import { FieldErrorCollector, ValidationFailed } from "./errors.js";

const WRONG_PASSWORD = "Your old password was entered incorrectly. Please enter it again.";

/** Ends a user's password resets that are still live (a changed password makes them moot). */
export const SUPERSEDE_RESETS = `update password_resets set superseded_at = ?,
    delivery_token_ciphertext = null, delivery_next_attempt_at = null,
    delivery_last_error = case when email_delivery = 'pending'
      then 'Cancelled: a newer request or a password change replaced this reset.' else delivery_last_error end,
    email_delivery = case when email_delivery = 'pending' then 'failed' else email_delivery end
  where used_at is null and superseded_at is null`;

/**
 * Changes the caller's password after checking the current one. Every other
 * session of theirs ends in the same transaction; the calling one stays.
 */
export async function changePassword(
  ctx: Pick<ServiceContext, "em" | "clock" | "audit">,
  caller: SessionCaller,
  input: { currentPassword: string; newPassword: string },
): Promise<void> {
  const user = caller.user;
  const rows = await ctx.em
    .getConnection()
    .execute<{ password_hash: string }[]>("select password_hash from users where id = ?", [user.id]);
  const hash = rows[0]?.password_hash;
  if (!hash || !(await verifyPassword(hash, input.currentPassword))) {
    throw ValidationFailed.field("currentPassword", WRONG_PASSWORD);
  }
  const errors = new FieldErrorCollector();
  errors.add("newPassword", ...passwordProblems(input.newPassword, user));
  errors.throwIfAny();
  const newHash = await hashPassword(input.newPassword);
  const now = ctx.clock.now();
  await ctx.em.transactional(async (em) => {
    const endedSessions = await replacePassword(em, user.id, newHash, now, caller.sessionId);
    await insertAudit(
      em,
      ctx.audit,
      {
        action: "auth.password_changed",
        tenantId: user.tenantId,
        target: { type: "user", id: user.id },
        details: { endedSessions },
      },
      now,
    );
  });
}

/**
 * Sets a user's new password hash, ends their sessions (all but `keepSessionId`)
 * and supersedes their live reset tokens, in `em`'s transaction; returns how
 * many sessions ended. Shared by a password change and a reset.
 */
export async function replacePassword(
  em: EntityManager,
  userId: string,
  newHash: string,
  now: Date,
  keepSessionId?: string,
): Promise<number> {
  const connection = em.getConnection();
  const tx = em.getTransactionContext();
  await connection.execute("update users set password_hash = ? where id = ?", [newHash, userId], "run", tx);
  const ended = await connection.execute(
    `delete from sessions where user_id = ?${keepSessionId ? " and id <> ?" : ""}`,
    keepSessionId ? [userId, keepSessionId] : [userId],
    "run",
    tx,
  );
  await connection.execute(`${SUPERSEDE_RESETS} and user_id = ?`, [now, userId], "run", tx);
  return (ended as { affectedRows?: number }).affectedRows ?? 0;
}
