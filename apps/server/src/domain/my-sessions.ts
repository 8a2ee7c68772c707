import { isoTimestamp } from "@tenantry/db";
import { insertAudit } from "./audit.js";
import type { SessionCaller } from "./caller.js";
import type { ServiceContext } from "./context.js";
import { NotFound } from "./errors.js";

export interface SessionView {
  /** The session's id: not its token. */
  id: string;
  createdAt: string;
  expiresAt: string;
  ip: string | null;
  userAgent: string | null;
  /** The session this request came with. */
  current: boolean;
}

interface SessionRow {
  id: string;
  created_at: string;
  expires_at: string;
  ip: string | null;
  user_agent: string | null;
}

/** The caller's live sessions, newest first. */
export async function listOwnSessions(
  ctx: Pick<ServiceContext, "em" | "clock">,
  caller: SessionCaller,
): Promise<SessionView[]> {
  const rows = await ctx.em.getConnection().execute<SessionRow[]>(
    `select id, ${isoTimestamp("created_at")} as created_at, ${isoTimestamp("expires_at")} as expires_at, ip, user_agent
       from sessions where user_id = ? and expires_at > ? order by created_at desc, id`,
    [caller.user.id, ctx.clock.now()],
  );
  return rows.map((row) => ({
    id: row.id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    ip: row.ip,
    userAgent: row.user_agent,
    current: row.id === caller.sessionId,
  }));
}

/** Ends one of the caller's own sessions (the current one too); anyone else's is not found. */
export async function endOwnSession(
  ctx: Pick<ServiceContext, "em" | "clock" | "audit">,
  caller: SessionCaller,
  id: string,
): Promise<void> {
  await ctx.em.transactional(async (em) => {
    const ended = await em
      .getConnection()
      .execute(
        "delete from sessions where id = ? and user_id = ? returning id",
        [id, caller.user.id],
        "all",
        em.getTransactionContext(),
      );
    if ((ended as unknown[]).length === 0) throw new NotFound();
    await insertAudit(
      em,
      ctx.audit,
      {
        action: "auth.session_ended",
        tenantId: caller.user.tenantId,
        target: { type: "user", id: caller.user.id },
        details: { current: id === caller.sessionId },
      },
      ctx.clock.now(),
    );
  });
}

/** Ends every session of the caller but the current one; returns how many ended. */
export async function endOtherSessions(
  ctx: Pick<ServiceContext, "em" | "clock" | "audit">,
  caller: SessionCaller,
): Promise<number> {
  return ctx.em.transactional(async (em) => {
    const ended = await em
      .getConnection()
      .execute(
        "delete from sessions where user_id = ? and id <> ?",
        [caller.user.id, caller.sessionId],
        "run",
        em.getTransactionContext(),
      );
    const count = (ended as { affectedRows?: number }).affectedRows ?? 0;
    await insertAudit(
      em,
      ctx.audit,
      {
        action: "auth.sessions_ended",
        tenantId: caller.user.tenantId,
        target: { type: "user", id: caller.user.id },
        details: { ended: count },
      },
      ctx.clock.now(),
    );
    return count;
  });
}

/** Ends every session of a member (operators: `tenantry sessions revoke --user`); returns how many ended. */
export async function endSessionsOfUser(
  ctx: Pick<ServiceContext, "em" | "clock" | "audit">,
  userId: string,
): Promise<number> {
  return ctx.em.transactional(async (em) => {
    const users = await em
      .getConnection()
      .execute<{ tenant_id: string | null }[]>(
        "select tenant_id from users where id = ?",
        [userId],
        "all",
        em.getTransactionContext(),
      );
    const user = users[0];
    if (!user) throw new NotFound();
    const ended = await em
      .getConnection()
      .execute("delete from sessions where user_id = ?", [userId], "run", em.getTransactionContext());
    const count = (ended as { affectedRows?: number }).affectedRows ?? 0;
    await insertAudit(
      em,
      ctx.audit,
      {
        action: "auth.sessions_ended",
        tenantId: user.tenant_id,
        target: { type: "user", id: userId },
        details: { ended: count },
      },
      ctx.clock.now(),
    );
    return count;
  });
}
