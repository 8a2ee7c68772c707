import { hashInvitationToken, hashSecret, parseSessionToken } from "@tenantry/auth";
import { expect } from "vitest";
import type { InvitationEmail } from "../../mail/hook.js";
import { type Harness, STRONG_PASSWORD, unique } from "../../test-support/harness.js";
import type { AuditAction } from "../audit.js";

/** What the audit-trail tests (domain/audit-*.test.ts) share: the client, the event shape, the queries. */

export const CLIENT = { ip: "198.51.100.9", userAgent: "audit-test/1.0" };
export const APPEND_ONLY = /audit events cannot be changed or deleted/;
export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export interface EventRow {
  id: string;
  occurred_at: Date | string;
  actor_type: string;
  actor_id: string | null;
  actor_email: string | null;
  tenant_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  details: Record<string, unknown> | string;
  ip: string | null;
  user_agent: string | null;
}

/** An event row in the shape the assertions compare. */
export interface Event {
  id: string;
  occurredAt: string;
  actorType: string;
  actorId: string | null;
  actorEmail: string | null;
  tenantId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  details: Record<string, unknown>;
  ip: string | null;
  userAgent: string | null;
}

export function toEvent(row: EventRow): Event {
  return {
    id: row.id,
    occurredAt: new Date(row.occurred_at).toISOString(),
    actorType: row.actor_type,
    actorId: row.actor_id,
    actorEmail: row.actor_email,
    tenantId: row.tenant_id,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    details: typeof row.details === "string" ? JSON.parse(row.details) : row.details,
    ip: row.ip,
    userAgent: row.user_agent,
  };
}

export function sqlOf(h: Harness) {
  return <T = Record<string, unknown>>(query: string, params: unknown[] = []) =>
    h.db.orm.em.fork().getConnection().execute<T[]>(query, params);
}

/** A hook that records every email, and fails (for good) those to `bounce…` addresses, quoting the link. */
export function bouncingHook(emails: InvitationEmail[]) {
  return (email: InvitationEmail) => {
    emails.push(email);
    if (email.to.startsWith("bounce")) throw new Error(`mailbox unavailable for ${email.to} (${email.acceptUrl})`);
  };
}

export function tokenOf(email: InvitationEmail): string {
  return new URLSearchParams(new URL(email.acceptUrl).hash.slice(1)).get("token") ?? "";
}

/**
 * The helpers of "the audit trail records every change", over the harness the
 * calling file opens (`harness()` is read at call time, after its `beforeAll`).
 */
export function auditTrail(
  harness: () => Harness,
  {
    secrets = new Set<string>(),
    proven = new Set<AuditAction>(),
  }: {
    /** Everything secret seen during the tests: no event may contain any of it. */
    secrets?: Set<string>;
    /** The actions the tests proved. */
    proven?: Set<AuditAction>;
  } = {},
) {
  const sql = <T = Record<string, unknown>>(query: string, params: unknown[] = []) =>
    sqlOf(harness())<T>(query, params);

  /** Moves the manual clock on by a second and returns the new time: each change gets a distinct instant. */
  function tick(): string {
    const h = harness();
    h.clock.advance(1000);
    return h.clock.now().toISOString();
  }

  const as = (token: string | null) => harness().call(token, CLIENT);

  function rememberToken(token: string) {
    if (!token) return;
    secrets.add(token);
    secrets.add(hashInvitationToken(token));
    const session = parseSessionToken(token);
    if (session) secrets.add(hashSecret(session.secret));
  }

  async function events(where: string, params: unknown[]): Promise<Event[]> {
    const rows = await sql<EventRow>(`select * from audit_events where ${where} order by occurred_at, id`, params);
    return rows.map(toEvent);
  }

  /** The one event of `action` about `targetId`. */
  async function theEvent(action: AuditAction, targetId: string): Promise<Event> {
    const found = await events("action = ? and target_id = ?", [action, targetId]);
    expect(found, `${action} for ${targetId}`).toHaveLength(1);
    proven.add(action);
    return found[0] as Event;
  }

  async function countEvents(): Promise<number> {
    const rows = await sql<{ n: number }>("select count(*)::int as n from audit_events");
    return Number(rows[0]?.n);
  }

  const userActor = (id: string, email: string) => ({ actorType: "user", actorId: id, actorEmail: email });
  const fromClient = { ip: CLIENT.ip, userAgent: CLIENT.userAgent };

  /** A tenant signed up and its admin logged in, both from CLIENT. */
  async function signUpFromClient(name = unique("Audit")) {
    const adminEmail = `admin@${name.toLowerCase()}.example.com`;
    const at = tick();
    const tenant = await as(null).tenant.create({ name, adminEmail, adminPassword: STRONG_PASSWORD });
    const { token } = await as(null).auth.login({ email: adminEmail, password: STRONG_PASSWORD });
    rememberToken(token);
    return { tenant, adminEmail, adminId: tenant.adminUserId, admin: as(token), token, createdAt: at };
  }

  return { sql, tick, as, rememberToken, events, theEvent, countEvents, userActor, fromClient, signUpFromClient };
}
