import {
  constantTimeEqualHex,
  createSessionToken,
  hashSecret,
  isExpired,
  parseSessionToken,
  sessionExpiry,
  shouldRenew,
  verifyPasswordPadded,
} from "@tenantry/auth";
import { type EntityManager, Session, selectRows } from "@tenantry/db";
import { auditInsertSql, insertAudit } from "./audit.js";
import type { Caller, SessionCaller } from "./caller.js";
import type { ServiceContext } from "./context.js";
import { NON_FIELD, Unauthenticated, ValidationFailed } from "./errors.js";
import { isUuid } from "./ids.js";
import { USER_COLUMNS, type UserRow, userRecord } from "./user-records.js";
import { type UserView, userView } from "./views.js";

export interface LoginInput {
  email: string;
  password: string;
  tenant?: string;
}

export interface LoginResult {
  token: string;
  expiresAt: string;
  user: UserView;
}

const LOGIN_FAILED = "Unable to log in with provided credentials.";

/**
 * Argon2id verifications per login attempt, whatever the address: unknown, one
 * account or many, the attempt costs the same, so neither its time nor its CPU
 * tells how many accounts share an email. At most this many accounts are
 * checked; the slots they leave are spent on the dummy hash.
 */
export const LOGIN_VERIFICATIONS = 2;

/**
 * Checks the password against the account(s) with this email: the one in the
 * named tenant, or, without `tenant`, the platform (superuser) account first and
 * then the tenant accounts, oldest first, up to LOGIN_VERIFICATIONS of them.
 * A superuser whose password matches logs in as the superuser: tenant accounts
 * with the same address never shadow platform staff (they name their tenant).
 * One matching tenant account logs in; several, or one while the address has
 * more accounts than were checked, ask for the tenant. Wrong password and
 * unknown email fail alike, in body and in time.
 */
export async function login(
  ctx: Pick<ServiceContext, "em" | "clock" | "audit">,
  input: LoginInput,
): Promise<LoginResult> {
  const accounts = await loginCandidates(ctx.em, input.email, input.tenant);
  const checked = accounts.slice(0, LOGIN_VERIFICATIONS);
  const verified = await verifyPasswordPadded(
    checked.map((row) => row.password_hash),
    input.password,
    LOGIN_VERIFICATIONS,
  );
  const matches = checked.filter((_, index) => verified[index]);
  // With accounts left unchecked, one tenant match may not be the account meant.
  const allChecked = accounts.length === checked.length;
  const chosen =
    matches.find((row) => row.is_superuser) ?? (matches.length === 1 && allChecked ? matches[0] : undefined);
  const now = ctx.clock.now();
  if (!chosen) {
    // Recorded against the tenant only when the address names exactly one account.
    const tenantId = accounts.length === 1 ? (accounts[0]?.tenant_id ?? null) : null;
    const reason = matches.length === 0 ? "bad_credentials" : "ambiguous_tenant";
    await insertAudit(
      ctx.em,
      ctx.audit,
      { action: "auth.login_failed", tenantId, details: { email: input.email, tenant: input.tenant ?? null, reason } },
      now,
    );
    if (matches.length === 0) throw ValidationFailed.field(NON_FIELD, LOGIN_FAILED);
    throw ValidationFailed.field(
      "tenant",
      "This email has an account in more than one tenant. Name the tenant (its id or slug) to log in.",
    );
  }
  const user = userRecord(chosen);
  const { id, token, secretHash } = createSessionToken();
  const expiresAt = sessionExpiry(now);
  // The session and its audit record in one statement: both or neither.
  const event = auditInsertSql(
    { ...ctx.audit, actor: { type: "user", id: user.id, email: user.email } },
    { action: "auth.login_succeeded", tenantId: user.tenantId, target: { type: "user", id: user.id } },
    now,
  );
  await ctx.em.getConnection().execute(
    `with session as (
       insert into sessions (id, secret_hash, user_id, created_at, expires_at, ip, user_agent)
       values (?, ?, ?, ?, ?, ?, ?)
     ) ${event.sql}`,
    [
      id,
      secretHash,
      user.id,
      now,
      expiresAt,
      ctx.audit.client.ip?.slice(0, 64) ?? null,
      ctx.audit.client.userAgent?.slice(0, 512) ?? null,
      ...event.params,
    ],
    "run",
  );
  return { token, expiresAt: expiresAt.toISOString(), user: userView(user) };
}

type LoginRow = UserRow & { password_hash: string };

/**
 * The accounts a login may mean, in the order they are checked, one more than
 * can be checked so the caller knows whether any were left out.
 */
async function loginCandidates(em: EntityManager, email: string, tenant: string | undefined): Promise<LoginRow[]> {
  // A deactivated account is no candidate: its login fails exactly as a wrong password does.
  const conditions = ["lower(u.email) = lower(?)", "u.is_active"];
  const params: unknown[] = [email];
  if (tenant !== undefined) {
    if (isUuid(tenant)) conditions.push("u.tenant_id = ?");
    else conditions.push("u.tenant_id = (select id from tenants where slug = lower(?))");
    params.push(tenant);
  }
  return selectRows<LoginRow>(
    em,
    `select ${USER_COLUMNS}, u.password_hash from users u where ${conditions.join(" and ")}
     order by u.is_superuser desc, u.date_joined, u.id limit ${LOGIN_VERIFICATIONS + 1}`,
    params,
  );
}

/** Ends this session only; the token stops working at once. */
export async function logout(
  ctx: Pick<ServiceContext, "em" | "clock" | "audit">,
  caller: SessionCaller,
): Promise<void> {
  const event = auditInsertSql(
    ctx.audit,
    { action: "auth.logout", tenantId: caller.user.tenantId, target: { type: "user", id: caller.user.id } },
    ctx.clock.now(),
  );
  await ctx.em
    .getConnection()
    .execute(
      `with ended as (delete from sessions where id = ?) ${event.sql}`,
      [caller.sessionId, ...event.params],
      "run",
    );
}

type SessionRow = UserRow & { session_id: string; secret_hash: string; expires_ms: number };

/**
 * The caller behind a token, in one query (session, user and roles); an
 * inactive user's token is invalid (deactivation also deletes its sessions). The
 * secret is compared in constant time against its stored hash; the expiry
 * slides forward only when less than half of the lifetime is left, so an
 * active session is written about once in fifteen days, not on every request.
 */
export async function resolveCaller(em: EntityManager, token: string | null, now: Date): Promise<Caller> {
  if (token === null) return { kind: "anonymous" };
  const parsed = parseSessionToken(token);
  if (!parsed) throw new Unauthenticated("invalid");
  const rows = await selectRows<SessionRow>(
    em,
    `select s.id as session_id, s.secret_hash, (extract(epoch from s.expires_at) * 1000)::float8 as expires_ms,
       ${USER_COLUMNS}
     from sessions s join users u on u.id = s.user_id where s.id = ? and u.is_active`,
    [parsed.id],
  );
  const row = rows[0];
  if (!row || !constantTimeEqualHex(hashSecret(parsed.secret), row.secret_hash)) throw new Unauthenticated("invalid");
  const expiresAt = new Date(row.expires_ms);
  if (isExpired(expiresAt, now)) {
    await em.nativeDelete(Session, { id: parsed.id });
    throw new Unauthenticated("invalid");
  }
  let renewedUntil: Date | undefined;
  if (shouldRenew(expiresAt, now)) {
    renewedUntil = sessionExpiry(now);
    await em.nativeUpdate(Session, { id: parsed.id }, { expiresAt: renewedUntil });
  }
  const user = userRecord(row);
  if (user.isSuperuser) return { kind: "superuser", sessionId: parsed.id, user, renewedUntil };
  if (user.tenantId === null) throw new Unauthenticated("invalid");
  return { kind: "member", sessionId: parsed.id, user: { ...user, tenantId: user.tenantId }, renewedUntil };
}
