import { createInvitationToken, hashInvitationToken, hashPassword, passwordProblems } from "@tenantry/auth";
import { type EntityManager, newId, selectRows } from "@tenantry/db";
import { type AuditRecord, insertAudit, insertAudits } from "./audit.js";
import type { TenantScope } from "./caller.js";
import type { ServiceContext } from "./context.js";
import { FieldErrorCollector, InvalidRequest, NotFound, ValidationFailed } from "./errors.js";
import { isUuid } from "./ids.js";
import { replacePassword, SUPERSEDE_RESETS } from "./passwords.js";

/** How long a reset link works. */
export const RESET_LIFETIME_MS = 60 * 60 * 1000;

/** The one answer to every reset request, whether or not the address has an account. */
export const RESET_REQUESTED = "If the address has an account, a reset link has been sent.";

const TOKEN_INVALID = "This password reset link is invalid or has expired. Request a new one.";

export interface ResetRequest {
  email: string;
  /** A tenant's id or slug: only the account there. */
  tenant?: string;
}

interface AccountRow {
  id: string;
  tenant_id: string | null;
  email: string;
}

/**
 * Makes a reset token for each active account with this address (in `tenant`
 * when named), replacing that account's live resets, and leaves the email in
 * the outbox. The token is only ever in the email: the row keeps its SHA-256
 * and, until delivery ends, the token sealed with the server key.
 *
 * Whether or not an account exists, the answer is the same and so is the
 * work: the same statements run (a known address inserts its rows, an unknown
 * one inserts none), one token is made and sealed at least, and one audit
 * event is written either way — per account, or one without a target that
 * records the request for an address with no active account.
 */
export async function requestPasswordReset(
  ctx: Pick<ServiceContext, "em" | "clock" | "audit" | "mailbox">,
  input: ResetRequest,
): Promise<{ detail: string }> {
  const now = ctx.clock.now();
  const expiresAt = new Date(now.getTime() + RESET_LIFETIME_MS);
  const made = await ctx.em.transactional(async (em) => {
    const connection = em.getConnection();
    const tx = em.getTransactionContext();
    const conditions = ["lower(u.email) = lower(?)", "u.is_active"];
    const params: unknown[] = [input.email];
    if (input.tenant !== undefined) {
      conditions.push(
        isUuid(input.tenant) ? "u.tenant_id = ?" : "u.tenant_id = (select id from tenants where slug = lower(?))",
      );
      params.push(input.tenant);
    }
    // Locking the accounts makes concurrent requests for one address take turns, so the later one supersedes.
    const accounts = await connection.execute<AccountRow[]>(
      `select u.id, u.tenant_id, u.email from users u where ${conditions.join(" and ")} order by u.id for update`,
      params,
      "all",
      tx,
    );
    const resets = newResets(ctx, accounts, now);
    // The work a token costs, spent also when there is no account.
    if (resets.length === 0) ctx.mailbox.seal(createInvitationToken().token);
    await insertResets(em, resets, now, expiresAt);
    const details = { email: input.email, tenant: input.tenant ?? null };
    const events: AuditRecord[] = resets.length
      ? resets.map((reset) => ({
          action: "auth.password_reset_requested",
          tenantId: reset.tenant_id,
          target: { type: "user", id: reset.user_id },
          details: { ...details, resetId: reset.id },
        }))
      : [{ action: "auth.password_reset_requested", tenantId: null, details: { ...details, resetId: null } }];
    await insertAudits(em, ctx.audit, events, now);
    return resets.length;
  });
  if (made) ctx.mailbox.notify("password_reset");
  return { detail: RESET_REQUESTED };
}

interface NewReset {
  id: string;
  user_id: string;
  tenant_id: string | null;
  email: string;
  token_hash: string;
  sealed: string;
}

function newResets(ctx: Pick<ServiceContext, "mailbox">, accounts: AccountRow[], now: Date): NewReset[] {
  return accounts.map((account) => {
    const { token, tokenHash } = createInvitationToken();
    return {
      id: newId(now.getTime()),
      user_id: account.id,
      tenant_id: account.tenant_id,
      email: account.email,
      token_hash: tokenHash,
      sealed: ctx.mailbox.seal(token),
    };
  });
}

/** Supersedes the accounts' live resets and inserts the new ones, due now, in one statement (none: nothing changes). */
async function insertResets(em: EntityManager, resets: NewReset[], now: Date, expiresAt: Date): Promise<void> {
  await em.getConnection().execute(
    `with requested as (
       select * from jsonb_to_recordset(?::jsonb)
         as r(id uuid, user_id uuid, tenant_id uuid, email text, token_hash text, sealed text)
     ), superseded as (
       ${SUPERSEDE_RESETS} and user_id in (select user_id from requested)
     )
     insert into password_resets (id, user_id, tenant_id, email, token_hash, created_at, expires_at,
       email_delivery, delivery_attempts, delivery_next_attempt_at, delivery_token_ciphertext)
     select id, user_id, tenant_id, email, token_hash, ?, ?, 'pending', 0, ?, sealed from requested`,
    [JSON.stringify(resets), now, now, expiresAt, now],
    "run",
    em.getTransactionContext(),
  );
}

export interface SentReset {
  /** The reset's id (not its token). */
  id: string;
  userId: string;
  email: string;
  tenantId: string | null;
  expiresAt: string;
}

/**
 * Support's "send this user a reset link": as if the user had asked, for one
 * account by id (within `scope`). Deactivated accounts get none.
 */
export async function sendPasswordReset(
  ctx: Pick<ServiceContext, "em" | "clock" | "audit" | "mailbox">,
  scope: TenantScope,
  userId: string,
): Promise<SentReset> {
  const now = ctx.clock.now();
  const expiresAt = new Date(now.getTime() + RESET_LIFETIME_MS);
  const reset = await ctx.em.transactional(async (em) => {
    const rows = await em
      .getConnection()
      .execute<(AccountRow & { is_active: boolean })[]>(
        `select u.id, u.tenant_id, u.email, u.is_active from users u where u.id = ? ${scope.tenantId ? "and u.tenant_id = ?" : ""} for update`,
        scope.tenantId ? [userId, scope.tenantId] : [userId],
        "all",
        em.getTransactionContext(),
      );
    const account = rows[0];
    if (!account) throw new NotFound();
    if (!account.is_active)
      throw new InvalidRequest("This account is deactivated: activate it before sending a reset link.");
    const [made] = newResets(ctx, [account], now) as [NewReset];
    await insertResets(em, [made], now, expiresAt);
    await insertAudit(
      em,
      ctx.audit,
      {
        action: "auth.password_reset_requested",
        tenantId: account.tenant_id,
        target: { type: "user", id: account.id },
        details: { email: account.email, tenant: null, resetId: made.id },
      },
      now,
    );
    return made;
  });
  ctx.mailbox.notify("password_reset");
  return {
    id: reset.id,
    userId: reset.user_id,
    email: reset.email,
    tenantId: reset.tenant_id,
    expiresAt: expiresAt.toISOString(),
  };
}

interface ResetRow {
  id: string;
  user_id: string;
  tenant_id: string | null;
  email: string;
  first_name: string;
  last_name: string;
}

/**
 * Sets a new password with a reset token. The token is claimed with a
 * conditional update in the transaction that sets the password, so of
 * concurrent confirms exactly one succeeds; a refused password changes
 * nothing and leaves the token usable. Every session of the user ends.
 */
export async function confirmPasswordReset(
  ctx: Pick<ServiceContext, "em" | "clock" | "audit">,
  input: { token: string; newPassword: string },
): Promise<void> {
  const tokenHash = hashInvitationToken(input.token);
  const live = "p.used_at is null and p.superseded_at is null and p.expires_at > ? and u.is_active";
  const rows = await selectRows<ResetRow>(
    ctx.em,
    `select p.id, p.user_id, p.tenant_id, u.email, u.first_name, u.last_name
     from password_resets p join users u on u.id = p.user_id
     where p.token_hash = ? and ${live}`,
    [tokenHash, ctx.clock.now()],
  );
  const reset = rows[0];
  if (!reset) throw ValidationFailed.field("token", TOKEN_INVALID);
  const errors = new FieldErrorCollector();
  errors.add(
    "newPassword",
    ...passwordProblems(input.newPassword, {
      email: reset.email,
      firstName: reset.first_name,
      lastName: reset.last_name,
    }),
  );
  errors.throwIfAny();
  const newHash = await hashPassword(input.newPassword);
  const now = ctx.clock.now();
  await ctx.em.transactional(async (em) => {
    const connection = em.getConnection();
    const tx = em.getTransactionContext();
    const claimed = await connection.execute<{ id: string }[]>(
      `update password_resets p set used_at = ?,
         delivery_token_ciphertext = null, delivery_next_attempt_at = null,
         delivery_last_error = case when email_delivery = 'pending'
           then 'Cancelled: the reset was used before delivery.' else delivery_last_error end,
         email_delivery = case when email_delivery = 'pending' then 'failed' else email_delivery end
       from users u
       where p.id = ? and u.id = p.user_id and ${live}
       returning p.id`,
      [now, reset.id, now],
      "all",
      tx,
    );
    if (claimed.length === 0) throw ValidationFailed.field("token", TOKEN_INVALID);
    const endedSessions = await replacePassword(em, reset.user_id, newHash, now);
    await insertAudit(
      em,
      ctx.audit,
      {
        action: "auth.password_reset",
        tenantId: reset.tenant_id,
        target: { type: "user", id: reset.user_id },
        details: { resetId: reset.id, endedSessions },
        actor: { type: "user", id: reset.user_id, email: reset.email },
      },
      now,
    );
  });
}
