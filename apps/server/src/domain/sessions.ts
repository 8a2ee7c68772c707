import {
  constantTimeEqualHex,
  createSessionToken,
  hashSecret,
  isExpired,
  parseSessionToken,
  sessionExpiry,
  shouldRenew,
  verifyPasswordOrDummy,
} from "@tenantry/auth";
import { type EntityManager, Session } from "@tenantry/db";
import type { Caller } from "./caller.js";
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
/** More accounts than this under one address is not a login anyone needs to make. */
const MAX_CANDIDATES = 20;

/**
 * Checks the password against the account(s) with this email (in the named
 * tenant, or in any). Wrong password and unknown email fail alike, in body and
 * in time: an unknown email still costs one Argon2 verification.
 */
export async function login(ctx: Pick<ServiceContext, "em" | "clock">, input: LoginInput): Promise<LoginResult> {
  const candidates = await loginCandidates(ctx.em, input.email, input.tenant);
  const verified = candidates.length
    ? await Promise.all(candidates.map((row) => verifyPasswordOrDummy(row.password_hash, input.password)))
    : [await verifyPasswordOrDummy(null, input.password)];
  const matches = candidates.filter((_, index) => verified[index]);
  if (matches.length === 0) throw ValidationFailed.field(NON_FIELD, LOGIN_FAILED);
  if (matches.length > 1) {
    throw ValidationFailed.field(
      "tenant",
      "This email has an account in more than one tenant. Name the tenant (its id or slug) to log in.",
    );
  }
  const user = userRecord(matches[0] as LoginRow);
  const now = ctx.clock.now();
  const { id, token, secretHash } = createSessionToken();
  const expiresAt = sessionExpiry(now);
  await ctx.em.insert(Session, { id, secretHash, user: user.id, createdAt: now, expiresAt });
  return { token, expiresAt: expiresAt.toISOString(), user: userView(user) };
}

type LoginRow = UserRow & { password_hash: string };

async function loginCandidates(em: EntityManager, email: string, tenant: string | undefined): Promise<LoginRow[]> {
  const conditions = ["lower(u.email) = lower(?)"];
  const params: unknown[] = [email];
  if (tenant !== undefined) {
    if (isUuid(tenant)) conditions.push("u.tenant_id = ?");
    else conditions.push("u.tenant_id = (select id from tenants where slug = lower(?))");
    params.push(tenant);
  }
  return em
    .getConnection()
    .execute<LoginRow[]>(
      `select ${USER_COLUMNS}, u.password_hash from users u where ${conditions.join(" and ")} limit ${MAX_CANDIDATES}`,
      params,
    );
}

/** Ends this session only; the token stops working at once. */
export async function logout(ctx: Pick<ServiceContext, "em">, sessionId: string): Promise<void> {
  await ctx.em.nativeDelete(Session, { id: sessionId });
}

type SessionRow = UserRow & { session_id: string; secret_hash: string; expires_at: Date };

/**
 * The caller behind a token, in one query (session, user and roles). The
 * secret is compared in constant time against its stored hash; the expiry
 * slides forward only when less than half of the lifetime is left, so an
 * active session is written about once in fifteen days, not on every request.
 */
export async function resolveCaller(em: EntityManager, token: string | null, now: Date): Promise<Caller> {
  if (token === null) return { kind: "anonymous" };
  const parsed = parseSessionToken(token);
  if (!parsed) throw new Unauthenticated("invalid");
  const rows = await em.getConnection().execute<SessionRow[]>(
    `select s.id as session_id, s.secret_hash, s.expires_at, ${USER_COLUMNS}
       from sessions s join users u on u.id = s.user_id where s.id = ?`,
    [parsed.id],
  );
  const row = rows[0];
  if (!row || !constantTimeEqualHex(hashSecret(parsed.secret), row.secret_hash)) throw new Unauthenticated("invalid");
  const expiresAt = new Date(row.expires_at);
  if (isExpired(expiresAt, now)) {
    await em.nativeDelete(Session, { id: parsed.id });
    throw new Unauthenticated("invalid");
  }
  if (shouldRenew(expiresAt, now)) {
    await em.nativeUpdate(Session, { id: parsed.id }, { expiresAt: sessionExpiry(now) });
  }
  const user = userRecord(row);
  if (user.isSuperuser) return { kind: "superuser", sessionId: parsed.id, user };
  if (user.tenantId === null) throw new Unauthenticated("invalid");
  return { kind: "member", sessionId: parsed.id, user: { ...user, tenantId: user.tenantId } };
}
