import { hashInvitationToken, hashSecret, parseSessionToken } from "@tenantry/auth";
import { AuditEvent } from "@tenantry/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUDIT_ACTIONS, type AuditAction } from "./domain/audit.js";
import { DAY_MS } from "./domain/clock.js";
import { createSuperuser } from "./domain/users.js";
import type { InvitationEmail } from "./mail/hook.js";
import { failure } from "./test-support/errors.js";
import {
  addMember,
  type Caller,
  createHarness,
  type Harness,
  STRONG_PASSWORD,
  signUp,
  superuser,
  unique,
} from "./test-support/harness.js";
import { startReceiver } from "./test-support/webhook-receiver.js";
import { errorDetails } from "./trpc/errors.js";
import { appRouter } from "./trpc/router.js";
import { DEFAULT_WEBHOOK_RETRY_DELAYS_MS } from "./webhooks/delivery.js";

/**
 * The audit trail (issue #6): every change is recorded, in the same
 * transaction as the change, with who, where, what and from which client;
 * events can never be changed or deleted; tenant ADMINs and superusers read
 * it through `audit.list` / `audit.page`.
 */

const CLIENT = { ip: "198.51.100.9", userAgent: "audit-test/1.0" };
const APPEND_ONLY = /audit events cannot be changed or deleted/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

interface EventRow {
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
interface Event {
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

function toEvent(row: EventRow): Event {
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

function sqlOf(h: Harness) {
  return <T = Record<string, unknown>>(query: string, params: unknown[] = []) =>
    h.db.orm.em.fork().getConnection().execute<T[]>(query, params);
}

/** A hook that records every email, and fails (for good) those to `bounce…` addresses, quoting the link. */
function bouncingHook(emails: InvitationEmail[]) {
  return (email: InvitationEmail) => {
    emails.push(email);
    if (email.to.startsWith("bounce")) throw new Error(`mailbox unavailable for ${email.to} (${email.acceptUrl})`);
  };
}

function tokenOf(email: InvitationEmail): string {
  return new URLSearchParams(new URL(email.acceptUrl).hash.slice(1)).get("token") ?? "";
}

describe("the audit trail records every change", () => {
  let h: Harness;
  let sql: ReturnType<typeof sqlOf>;
  const emails: InvitationEmail[] = [];
  /** Everything secret seen during the tests: no event may contain any of it. */
  const secrets = new Set<string>([STRONG_PASSWORD]);
  /** The actions the tests below proved. */
  const proven = new Set<AuditAction>();

  beforeAll(async () => {
    h = await createHarness({ throttle: false, retryDelaysMs: [], hook: bouncingHook(emails) });
    sql = sqlOf(h);
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Moves the manual clock on by a second and returns the new time: each change gets a distinct instant. */
  function tick(): string {
    h.clock.advance(1000);
    return h.clock.now().toISOString();
  }

  const as = (token: string | null) => h.call(token, CLIENT);

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

  describe("(a) one event per change, with actor, tenant, target, details, client and time", () => {
    let acme: Awaited<ReturnType<typeof signUpFromClient>>;

    beforeAll(async () => {
      acme = await signUpFromClient();
    });

    it("tenant.created: the new admin is the actor; details name the tenant and its admin", async () => {
      expect(await theEvent("tenant.created", acme.tenant.id)).toEqual({
        id: expect.any(String),
        occurredAt: acme.createdAt,
        ...userActor(acme.adminId, acme.adminEmail),
        tenantId: acme.tenant.id,
        action: "tenant.created",
        targetType: "tenant",
        targetId: acme.tenant.id,
        details: {
          name: acme.tenant.name,
          slug: acme.tenant.slug,
          adminUserId: acme.adminId,
          adminEmail: acme.adminEmail,
        },
        ...fromClient,
      });
    });

    it("auth.login_succeeded and auth.logout: the user, their tenant, the user as target", async () => {
      const at = tick();
      const { token } = await as(null).auth.login({ email: acme.adminEmail, password: STRONG_PASSWORD });
      rememberToken(token);
      const logins = await events("action = 'auth.login_succeeded' and occurred_at = ?", [at]);
      expect(logins).toEqual([
        {
          id: expect.any(String),
          occurredAt: at,
          ...userActor(acme.adminId, acme.adminEmail),
          tenantId: acme.tenant.id,
          action: "auth.login_succeeded",
          targetType: "user",
          targetId: acme.adminId,
          details: {},
          ...fromClient,
        },
      ]);
      proven.add("auth.login_succeeded");

      const outAt = tick();
      await as(token).auth.logout();
      const logouts = await events("action = 'auth.logout' and occurred_at = ?", [outAt]);
      expect(logouts).toEqual([
        {
          id: expect.any(String),
          occurredAt: outAt,
          ...userActor(acme.adminId, acme.adminEmail),
          tenantId: acme.tenant.id,
          action: "auth.logout",
          targetType: "user",
          targetId: acme.adminId,
          details: {},
          ...fromClient,
        },
      ]);
      proven.add("auth.logout");
    });

    it("user.updated, user.deactivated, user.activated, user.deleted: the acting admin, the member as target", async () => {
      const member = await addMember(h, acme.admin, `lifecycle-${unique("x")}@invitee.example.com`, "VIEWER");
      rememberToken(member.token);
      const base = { id: expect.any(String), tenantId: acme.tenant.id, targetType: "user", ...fromClient };
      const renamedAt = tick();
      await as(member.token).user.updateMe({ firstName: "Grace" });
      expect(await theEvent("user.updated", member.user.id)).toEqual({
        ...base,
        occurredAt: renamedAt,
        ...userActor(member.user.id, member.user.email),
        action: "user.updated",
        targetId: member.user.id,
        details: { firstName: "Grace" },
      });
      const byAdmin = { ...base, ...userActor(acme.adminId, acme.adminEmail), targetId: member.user.id };
      const offAt = tick();
      await acme.admin.user.deactivate({ id: member.user.id });
      expect(await theEvent("user.deactivated", member.user.id)).toEqual({
        ...byAdmin,
        occurredAt: offAt,
        action: "user.deactivated",
        details: { email: member.user.email, endedSessions: 1 },
      });
      const onAt = tick();
      await acme.admin.user.activate({ id: member.user.id });
      expect(await theEvent("user.activated", member.user.id)).toEqual({
        ...byAdmin,
        occurredAt: onAt,
        action: "user.activated",
        details: { email: member.user.email },
      });
      const goneAt = tick();
      await acme.admin.user.remove({ id: member.user.id });
      expect(await theEvent("user.deleted", member.user.id)).toEqual({
        ...byAdmin,
        occurredAt: goneAt,
        action: "user.deleted",
        details: { email: member.user.email, roles: ["VIEWER"] },
      });
    });

    it("auth.password_changed, auth.session_ended, auth.sessions_ended: the user acting on their own sessions", async () => {
      const own = await signUpFromClient();
      const login = async () => {
        const { token } = await as(null).auth.login({ email: own.adminEmail, password: STRONG_PASSWORD });
        rememberToken(token);
        return token;
      };
      const [one, two] = [await login(), await login()];
      const self = { id: expect.any(String), tenantId: own.tenant.id, targetType: "user", targetId: own.adminId };
      const base = { ...self, ...userActor(own.adminId, own.adminEmail), ...fromClient };
      const endedAt = tick();
      await as(one).auth.endSession({ id: two.split(".")[0] as string });
      expect(await events("action = 'auth.session_ended' and occurred_at = ?", [endedAt])).toEqual([
        { ...base, occurredAt: endedAt, action: "auth.session_ended", details: { current: false } },
      ]);
      proven.add("auth.session_ended");
      const othersAt = tick();
      await own.admin.auth.endOtherSessions();
      expect(await events("action = 'auth.sessions_ended' and occurred_at = ?", [othersAt])).toEqual([
        { ...base, occurredAt: othersAt, action: "auth.sessions_ended", details: { ended: 1 } },
      ]);
      proven.add("auth.sessions_ended");
      await login();
      const changedAt = tick();
      await own.admin.auth.changePassword({ currentPassword: STRONG_PASSWORD, newPassword: STRONG_PASSWORD });
      expect(await events("action = 'auth.password_changed' and occurred_at = ?", [changedAt])).toEqual([
        { ...base, occurredAt: changedAt, action: "auth.password_changed", details: { endedSessions: 1 } },
      ]);
      proven.add("auth.password_changed");
    });

    it("auth.password_reset_requested and auth.password_reset: per account (an unknown address: no tenant, no target); the reset by the user", async () => {
      const own = await signUpFromClient();
      const requestedAt = tick();
      await as(null).auth.requestPasswordReset({ email: own.adminEmail });
      const unknownAt = tick();
      await as(null).auth.requestPasswordReset({ email: "nobody-resets@nowhere.example.com" });
      await h.deliverEmails();
      const mail = h.resetEmails.find((email) => email.to === own.adminEmail);
      const token = new URLSearchParams(new URL(mail?.resetUrl ?? "").hash.slice(1)).get("token") ?? "";
      rememberToken(token);
      const newPassword = "audit-Reset-passphrase-3";
      secrets.add(newPassword);
      const anonymous = {
        id: expect.any(String),
        actorType: "anonymous",
        actorId: null,
        actorEmail: null,
        ...fromClient,
      };
      expect(await events("action = 'auth.password_reset_requested' and occurred_at >= ?", [requestedAt])).toEqual([
        {
          ...anonymous,
          occurredAt: requestedAt,
          action: "auth.password_reset_requested",
          tenantId: own.tenant.id,
          targetType: "user",
          targetId: own.adminId,
          details: { email: own.adminEmail, tenant: null, resetId: mail?.passwordResetId },
        },
        {
          ...anonymous,
          occurredAt: unknownAt,
          action: "auth.password_reset_requested",
          tenantId: null,
          targetType: null,
          targetId: null,
          details: { email: "nobody-resets@nowhere.example.com", tenant: null, resetId: null },
        },
      ]);
      proven.add("auth.password_reset_requested");
      const resetAt = tick();
      await as(null).auth.confirmPasswordReset({ token, newPassword });
      expect(await theEvent("auth.password_reset", own.adminId)).toEqual({
        id: expect.any(String),
        ...userActor(own.adminId, own.adminEmail),
        ...fromClient,
        occurredAt: resetAt,
        action: "auth.password_reset",
        tenantId: own.tenant.id,
        targetType: "user",
        targetId: own.adminId,
        details: { resetId: mail?.passwordResetId, endedSessions: 1 },
      });
    });

    it("auth.login_failed: anonymous, the address's tenant when it names one account, never the password", async () => {
      const wrong = "Wrong-password-for-audit-1";
      secrets.add(wrong);
      const at = tick();
      await failure(as(null).auth.login({ email: acme.adminEmail, password: wrong }));
      const unknownAt = tick();
      await failure(as(null).auth.login({ email: "nobody@nowhere.example.com", password: wrong }));
      const namedAt = tick();
      await failure(as(null).auth.login({ email: acme.adminEmail, password: wrong, tenant: acme.tenant.slug }));

      const failed = await events("action = 'auth.login_failed' and occurred_at >= ?", [at]);
      const base = {
        id: expect.any(String),
        actorType: "anonymous",
        actorId: null,
        actorEmail: null,
        action: "auth.login_failed",
        targetType: null,
        targetId: null,
        ...fromClient,
      };
      expect(failed).toEqual([
        {
          ...base,
          occurredAt: at,
          tenantId: acme.tenant.id,
          details: { email: acme.adminEmail, tenant: null, reason: "bad_credentials" },
        },
        {
          ...base,
          occurredAt: unknownAt,
          tenantId: null,
          details: { email: "nobody@nowhere.example.com", tenant: null, reason: "bad_credentials" },
        },
        {
          ...base,
          occurredAt: namedAt,
          tenantId: acme.tenant.id,
          details: { email: acme.adminEmail, tenant: acme.tenant.slug, reason: "bad_credentials" },
        },
      ]);
      proven.add("auth.login_failed");
    });

    it("invitation.created: the inviting admin; a re-invite lists the ids it replaced", async () => {
      const email = `first-${unique("x")}@invitee.example.com`;
      const at = tick();
      const first = await acme.admin.invite.create({ email, role: "ANALYST" });
      rememberToken(first.token);
      expect(await theEvent("invitation.created", first.id)).toEqual({
        id: expect.any(String),
        occurredAt: at,
        ...userActor(acme.adminId, acme.adminEmail),
        tenantId: acme.tenant.id,
        action: "invitation.created",
        targetType: "invitation",
        targetId: first.id,
        details: { email, role: "ANALYST", replaced: [] },
        ...fromClient,
      });

      const againAt = tick();
      const second = await acme.admin.invite.create({ email, role: null });
      rememberToken(second.token);
      expect(await theEvent("invitation.created", second.id)).toMatchObject({
        occurredAt: againAt,
        details: { email, role: null, replaced: [first.id] },
      });
      // The replaced invitation's revocation is that same event, not a second one.
      expect(await events("action = 'invitation.revoked' and target_id = ?", [first.id])).toEqual([]);
    });

    it("invitation.resent, .extended, .revoked: the admin, the invitation, the new expiry", async () => {
      const email = `cycle-${unique("x")}@invitee.example.com`;
      const invitation = await acme.admin.invite.create({ email, role: "VIEWER" });
      rememberToken(invitation.token);

      const resentAt = tick();
      const resent = await acme.admin.invite.resend({ id: invitation.id });
      rememberToken(resent.token);
      expect(await theEvent("invitation.resent", invitation.id)).toEqual({
        id: expect.any(String),
        occurredAt: resentAt,
        ...userActor(acme.adminId, acme.adminEmail),
        tenantId: acme.tenant.id,
        action: "invitation.resent",
        targetType: "invitation",
        targetId: invitation.id,
        details: { email, expiresAt: resent.expiresAt },
        ...fromClient,
      });

      const extendedAt = tick();
      const extended = await acme.admin.invite.extend({ id: invitation.id, days: 3 });
      expect(extended.expiresAt).toBe(new Date(Date.parse(extendedAt) + 3 * DAY_MS).toISOString());
      expect(await theEvent("invitation.extended", invitation.id)).toEqual({
        id: expect.any(String),
        occurredAt: extendedAt,
        ...userActor(acme.adminId, acme.adminEmail),
        tenantId: acme.tenant.id,
        action: "invitation.extended",
        targetType: "invitation",
        targetId: invitation.id,
        details: { days: 3, expiresAt: extended.expiresAt, previousExpiresAt: resent.expiresAt },
        ...fromClient,
      });

      const revokedAt = tick();
      await acme.admin.invite.revoke({ id: invitation.id });
      expect(await theEvent("invitation.revoked", invitation.id)).toEqual({
        id: expect.any(String),
        occurredAt: revokedAt,
        ...userActor(acme.adminId, acme.adminEmail),
        tenantId: acme.tenant.id,
        action: "invitation.revoked",
        targetType: "invitation",
        targetId: invitation.id,
        details: { email },
        ...fromClient,
      });
      // Revoking it again changes nothing, so it records nothing.
      await acme.admin.invite.revoke({ id: invitation.id });
      expect(await events("action = 'invitation.revoked' and target_id = ?", [invitation.id])).toHaveLength(1);
    });

    it("invitation.accepted: the new user is the actor; details name the user and role", async () => {
      const email = `joiner-${unique("x")}@invitee.example.com`;
      const invitation = await acme.admin.invite.create({ email, role: "ANALYST" });
      rememberToken(invitation.token);
      const at = tick();
      const user = await as(null).invite.accept({ token: invitation.token, password: STRONG_PASSWORD });
      expect(await theEvent("invitation.accepted", invitation.id)).toEqual({
        id: expect.any(String),
        occurredAt: at,
        ...userActor(user.id, email),
        tenantId: acme.tenant.id,
        action: "invitation.accepted",
        targetType: "invitation",
        targetId: invitation.id,
        details: { userId: user.id, email, role: "ANALYST" },
        ...fromClient,
      });
    });

    it("role.granted and role.revoked: the admin, the assignment, the user and role", async () => {
      const member = await addMember(h, acme.admin, `member-${unique("x")}@invitee.example.com`, null);
      const grantedAt = tick();
      const assignment = await acme.admin.role.grant({ userId: member.user.id, role: "VIEWER" });
      const expected = {
        id: expect.any(String),
        ...userActor(acme.adminId, acme.adminEmail),
        tenantId: acme.tenant.id,
        targetType: "role_assignment",
        targetId: assignment.id,
        details: { userId: member.user.id, role: "VIEWER" },
        ...fromClient,
      };
      expect(await theEvent("role.granted", assignment.id)).toEqual({
        ...expected,
        occurredAt: grantedAt,
        action: "role.granted",
      });
      const revokedAt = tick();
      await acme.admin.role.revoke({ id: assignment.id });
      expect(await theEvent("role.revoked", assignment.id)).toEqual({
        ...expected,
        occurredAt: revokedAt,
        action: "role.revoked",
      });
    });

    it("a superuser's change is recorded as that superuser, in the tenant it touched", async () => {
      const staff = await superuser(h);
      rememberToken(staff.token);
      const email = `ops-${unique("x")}@invitee.example.com`;
      const invitation = await acme.admin.invite.create({ email, role: null });
      rememberToken(invitation.token);
      const at = tick();
      await h.call(staff.token, CLIENT).ops.extendInvitation({ id: invitation.id, days: 2 });
      expect(await theEvent("invitation.extended", invitation.id)).toMatchObject({
        occurredAt: at,
        ...userActor(staff.user.id, staff.user.email),
        tenantId: acme.tenant.id,
        ...fromClient,
      });
    });

    it("superuser.created: from the command line, actor `cli`, no tenant, only the address", async () => {
      const email = `${unique("root")}@platform.example.com`;
      const at = tick();
      const cliClient = { ip: null, userAgent: "tenantry-cli (ops@host)" };
      const created = await createSuperuser(
        { em: h.db.orm.em.fork(), clock: h.clock, audit: { actor: { type: "cli" }, client: cliClient } },
        { email, password: STRONG_PASSWORD },
      );
      expect(await theEvent("superuser.created", created.id)).toEqual({
        id: expect.any(String),
        occurredAt: at,
        actorType: "cli",
        actorId: null,
        actorEmail: null,
        tenantId: null,
        action: "superuser.created",
        targetType: "user",
        targetId: created.id,
        details: { email },
        ip: null,
        userAgent: cliClient.userAgent,
      });
    });

    it("email.delivery_failed: actor `system`, no client, the reason without the token", async () => {
      const email = `bounce-${unique("x")}@invitee.example.com`;
      const invitation = await acme.admin.invite.create({ email, role: null });
      rememberToken(invitation.token);
      const at = tick();
      await h.deliverEmails();
      const sent = emails.filter((mail) => mail.invitationId === invitation.id);
      expect(sent).toHaveLength(1);
      expect(tokenOf(sent[0] as InvitationEmail)).toBe(invitation.token);
      const event = await theEvent("email.delivery_failed", invitation.id);
      expect(event).toEqual({
        id: expect.any(String),
        occurredAt: at,
        actorType: "system",
        actorId: null,
        actorEmail: null,
        tenantId: acme.tenant.id,
        action: "email.delivery_failed",
        targetType: "invitation",
        targetId: invitation.id,
        details: { email, attempts: 1, reason: expect.stringContaining("mailbox unavailable") },
        ip: null,
        userAgent: null,
      });
      expect(String(event.details.reason)).toContain("[token]");
      expect(String(event.details.reason)).not.toContain(invitation.token);
    });

    it("invitation.purged: one event per purged invitation, by whoever purged", async () => {
      const staff = await superuser(h);
      rememberToken(staff.token);
      const expired = await acme.admin.invite.create({ email: `old-${unique("x")}@invitee.example.com`, role: null });
      const revoked = await acme.admin.invite.create({ email: `gone-${unique("x")}@invitee.example.com`, role: null });
      const kept = await acme.admin.invite.create({ email: `kept-${unique("x")}@invitee.example.com`, role: null });
      for (const invitation of [expired, revoked, kept]) rememberToken(invitation.token);
      await acme.admin.invite.revoke({ id: revoked.id });
      const longAgo = new Date(h.clock.now().getTime() - 40 * DAY_MS);
      await sql("update invitations set expires_at = ? where id = ?", [longAgo, expired.id]);
      await sql("update invitations set revoked_at = ? where id = ?", [longAgo, revoked.id]);

      const at = tick();
      const result = await h
        .call(staff.token, CLIENT)
        .ops.purgeInvitations({ tenant: acme.tenant.slug, olderThanDays: 30 });
      expect(result.purged).toBe(2);
      const purged = await events("action = 'invitation.purged' and occurred_at = ?", [at]);
      expect(purged.map((event) => event.targetId).sort()).toEqual([expired.id, revoked.id].sort());
      proven.add("invitation.purged");
      for (const event of purged) {
        const which = event.targetId === expired.id ? expired : revoked;
        expect(event).toEqual({
          id: expect.any(String),
          occurredAt: at,
          ...userActor(staff.user.id, staff.user.email),
          tenantId: acme.tenant.id,
          action: "invitation.purged",
          targetType: "invitation",
          targetId: which.id,
          details: {
            email: which.email,
            status: which === expired ? "expired" : "revoked",
            expiresAt: expect.any(String),
            revokedAt: which === expired ? null : expect.any(String),
            olderThanDays: 30,
          },
          ...fromClient,
        });
        if (which === expired) expect(Date.parse(String(event.details.expiresAt))).toBe(longAgo.getTime());
        else expect(Date.parse(String(event.details.revokedAt))).toBe(longAgo.getTime());
        // Timestamps as everywhere else in the API (API.md): ISO 8601 UTC, `2026-11-29T10:00:00.000Z`.
        for (const key of ["expiresAt", "revokedAt"]) {
          if (event.details[key] !== null) expect(event.details[key], key).toMatch(ISO_UTC);
        }
      }
      expect(await events("action = 'invitation.purged' and target_id = ?", [kept.id])).toEqual([]);
    });

    it("webhook.created|tested|disabled|removed: the superuser or the system, no tenant, the URL without query or secret", async () => {
      const staff = await superuser(h);
      rememberToken(staff.token);
      const closed = await startReceiver();
      await closed.close();
      const url = `${closed.url}?key=query-credential`;
      let at = tick();
      const endpoint = await as(staff.token).ops.createWebhook({ url, eventTypes: ["invitation.revoked"] });
      secrets.add(endpoint.secret);
      secrets.add("query-credential");
      const shownUrl = closed.url;
      expect(await theEvent("webhook.created", endpoint.id)).toEqual({
        id: expect.any(String),
        occurredAt: at,
        ...userActor(staff.user.id, staff.user.email),
        tenantId: null,
        action: "webhook.created",
        targetType: "webhook_endpoint",
        targetId: endpoint.id,
        details: { url: shownUrl, eventTypes: ["invitation.revoked"] },
        ...fromClient,
      });
      at = tick();
      await as(staff.token).ops.testWebhook({ id: endpoint.id });
      expect(await theEvent("webhook.tested", endpoint.id)).toMatchObject({
        occurredAt: at,
        ...userActor(staff.user.id, staff.user.email),
        tenantId: null,
        details: { url: shownUrl },
      });
      // Every retry of a revocation's event fails: the system disables the endpoint.
      const invitation = await acme.admin.invite.create({
        email: `hook-${unique("x")}@invitee.example.com`,
        role: null,
      });
      rememberToken(invitation.token);
      await acme.admin.invite.revoke({ id: invitation.id });
      for (const delay of [0, ...DEFAULT_WEBHOOK_RETRY_DELAYS_MS]) {
        h.clock.advance(delay);
        expect(await h.deliverWebhooks()).toBe(1);
      }
      expect(await theEvent("webhook.disabled", endpoint.id)).toMatchObject({
        actorType: "system",
        tenantId: null,
        details: { url: shownUrl, attempts: 10, reason: "The request failed: ECONNREFUSED." },
      });
      at = tick();
      await as(staff.token).ops.removeWebhook({ id: endpoint.id });
      expect(await theEvent("webhook.removed", endpoint.id)).toMatchObject({
        occurredAt: at,
        ...userActor(staff.user.id, staff.user.email),
        details: { url: shownUrl },
      });
    });

    it("covers every action in AUDIT_ACTIONS", () => {
      expect([...proven].sort()).toEqual([...AUDIT_ACTIONS].sort());
    });

    it("no event holds a secret: no password, token, token hash, password hash or sealed token", async () => {
      for (const row of await sql<{ password_hash: string }>("select password_hash from users")) {
        secrets.add(row.password_hash);
      }
      for (const row of await sql<{ token_hash: string; delivery_token_ciphertext: string | null }>(
        "select token_hash, delivery_token_ciphertext from invitations",
      )) {
        secrets.add(row.token_hash);
        if (row.delivery_token_ciphertext) secrets.add(row.delivery_token_ciphertext);
      }
      for (const row of await sql<{ secret_hash: string }>("select secret_hash from sessions")) {
        secrets.add(row.secret_hash);
      }
      for (const mail of emails) rememberToken(tokenOf(mail));
      for (const row of await sql<{ token_hash: string }>("select token_hash from password_resets")) {
        secrets.add(row.token_hash);
      }

      const all = await events("true", []);
      expect(all.length).toBeGreaterThan(20);
      for (const event of all) {
        const text = JSON.stringify(event);
        for (const secret of secrets) expect(text, `${event.action} ${event.id}`).not.toContain(secret);
        // Nothing shaped like a hash or an Argon2 string, and no key that names a secret.
        expect(text).not.toMatch(/[0-9a-f]{64}|\$argon2/i);
        const keys = JSON.stringify(event.details).match(/"[^"]+":/g) ?? [];
        for (const key of keys) expect(key).not.toMatch(/password|token|hash|secret/i);
      }
    });
  });

  describe("(b) the event is written in the same transaction as the change", () => {
    it("a change that is refused or rolls back leaves no event", async () => {
      const acme = await signUpFromClient();
      const before = await countEvents();

      // A taken tenant name (checked up front, and by the unique index under a race).
      await failure(
        as(null).tenant.create({
          name: acme.tenant.name.toUpperCase(),
          adminEmail: "other@dup.example.com",
          adminPassword: STRONG_PASSWORD,
        }),
      );
      // A role the user already holds: the insert fails in the flush that carries the event.
      const grant = await failure(acme.admin.role.grant({ userId: acme.adminId, role: "ADMIN" }));
      expect(grant.code).toBe("BAD_REQUEST");
      // The last ADMIN.
      const [adminAssignment] = await acme.admin.role.list({ userId: acme.adminId, role: "ADMIN" });
      const lastAdmin = await failure(acme.admin.role.revoke({ id: adminAssignment?.id as string }));
      expect(lastAdmin.code).toBe("BAD_REQUEST");
      // An address that became a member between invite and accept: the claim and the user roll back.
      const email = `racer-${unique("x")}@invitee.example.com`;
      const invitation = await acme.admin.invite.create({ email, role: "VIEWER" });
      const afterInvite = await countEvents();
      expect(afterInvite).toBe(before + 1);
      await sql(
        "insert into users (id, tenant_id, email, password_hash, is_superuser, date_joined) values (gen_random_uuid(), ?, ?, 'x', false, now())",
        [acme.tenant.id, email],
      );
      const accept = await failure(as(null).invite.accept({ token: invitation.token, password: STRONG_PASSWORD }));
      expect(errorDetails(accept).fieldErrors).toHaveProperty("email");
      expect((await acme.admin.invite.list()).find((row) => row.id === invitation.id)?.status).toBe("pending");

      expect(await countEvents()).toBe(afterInvite);
      expect(await events("action = 'invitation.accepted' and target_id = ?", [invitation.id])).toEqual([]);
    });

    it("two concurrent sign-ups with one name: one tenant, one tenant.created event", async () => {
      const name = unique("Race");
      const results = await Promise.allSettled(
        ["a", "b", "c"].map((who) =>
          as(null).tenant.create({ name, adminEmail: `${who}@race.example.com`, adminPassword: STRONG_PASSWORD }),
        ),
      );
      expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
      const created = await events("action = 'tenant.created' and details->>'name' = ?", [name]);
      expect(created).toHaveLength(1);
      const tenants = await sql<{ id: string }>("select id from tenants where name = ?", [name]);
      expect(tenants.map((row) => row.id)).toEqual([created[0]?.tenantId]);
    });

    describe("when the event cannot be written, the change does not happen", () => {
      let acme: Awaited<ReturnType<typeof signUpFromClient>>;
      let staff: Awaited<ReturnType<typeof superuser>>;

      beforeAll(async () => {
        acme = await signUpFromClient();
        staff = await superuser(h);
        // Refuses audit inserts for the tenants and addresses listed in audit_test_block.
        await sql("create table audit_test_block (tenant_id uuid, email text)");
        await sql(`create function audit_test_refuse() returns trigger language plpgsql as $$
          begin
            if exists (select 1 from audit_test_block b
                        where b.tenant_id = new.tenant_id
                           or lower(b.email) = lower(new.details->>'email')
                           or lower(b.email) = lower(new.details->>'adminEmail')) then
              raise exception 'audit write refused by the test';
            end if;
            return new;
          end $$`);
        await sql(
          "create trigger audit_test_refuse before insert on audit_events for each row execute function audit_test_refuse()",
        );
      });
      afterAll(async () => {
        await sql("drop trigger if exists audit_test_refuse on audit_events");
      });

      async function block(tenantId: string | null, email: string | null) {
        await sql("insert into audit_test_block (tenant_id, email) values (?, ?)", [tenantId, email]);
      }

      async function invitationRow(id: string) {
        const rows = await sql<{ state: string; expires_at: Date; token_hash: string; email_delivery: string }>(
          "select state, expires_at, token_hash, email_delivery from invitations where id = ?",
          [id],
        );
        return rows[0];
      }

      async function expectInternal(promise: Promise<unknown>) {
        const error = await failure(promise);
        expect(error.code).toBe("INTERNAL_SERVER_ERROR");
      }

      it("sign-up, superuser creation: nothing is created", async () => {
        const name = unique("Blocked");
        const adminEmail = `admin@${name.toLowerCase()}.example.com`;
        await block(null, adminEmail);
        await expectInternal(as(null).tenant.create({ name, adminEmail, adminPassword: STRONG_PASSWORD }));
        expect(await sql("select 1 from tenants where name = ?", [name])).toEqual([]);
        expect(await sql("select 1 from users where email = ?", [adminEmail])).toEqual([]);

        const rootEmail = `${unique("blocked-root")}@platform.example.com`;
        await block(null, rootEmail);
        await expect(
          createSuperuser(
            { em: h.db.orm.em.fork(), clock: h.clock, audit: { actor: { type: "cli" }, client: CLIENT } },
            { email: rootEmail, password: STRONG_PASSWORD },
          ),
        ).rejects.toThrow();
        expect(await sql("select 1 from users where email = ?", [rootEmail])).toEqual([]);
      });

      it("invitations, roles, sessions, purge: every change of a tenant whose events are refused is undone", async () => {
        const member = await addMember(h, acme.admin, `m-${unique("x")}@invitee.example.com`, "VIEWER");
        const [viewer] = await acme.admin.role.list({ userId: member.user.id });
        const pending = await acme.admin.invite.create({ email: `p-${unique("x")}@invitee.example.com`, role: null });
        const toAccept = await acme.admin.invite.create({ email: `a-${unique("x")}@invitee.example.com`, role: null });
        const old = await acme.admin.invite.create({ email: `o-${unique("x")}@invitee.example.com`, role: null });
        await sql("update invitations set expires_at = ? where id = ?", [
          new Date(h.clock.now().getTime() - 40 * DAY_MS),
          old.id,
        ]);
        await h.deliverEmails();
        const before = await invitationRow(pending.id);
        const eventsBefore = await countEvents();
        await block(acme.tenant.id, null);

        const newEmail = `n-${unique("x")}@invitee.example.com`;
        await expectInternal(acme.admin.invite.create({ email: newEmail, role: null }));
        expect(await sql("select 1 from invitations where email = ?", [newEmail])).toEqual([]);

        await expectInternal(acme.admin.invite.extend({ id: pending.id, days: 20 }));
        await expectInternal(acme.admin.invite.resend({ id: pending.id }));
        await expectInternal(acme.admin.invite.revoke({ id: pending.id }));
        expect(await invitationRow(pending.id)).toEqual(before);

        await expectInternal(as(null).invite.accept({ token: toAccept.token, password: STRONG_PASSWORD }));
        expect((await invitationRow(toAccept.id))?.state).toBe("pending");
        expect(await sql("select 1 from users where email = ?", [toAccept.email])).toEqual([]);

        await expectInternal(acme.admin.role.grant({ userId: member.user.id, role: "ANALYST" }));
        expect((await acme.admin.role.list({ userId: member.user.id })).map((row) => row.role)).toEqual(["VIEWER"]);
        await expectInternal(acme.admin.role.revoke({ id: viewer?.id as string }));
        expect((await acme.admin.role.list({ userId: member.user.id })).map((row) => row.id)).toEqual([viewer?.id]);

        const sessions = async () =>
          Number(
            (await sql<{ n: number }>("select count(*)::int as n from sessions where user_id = ?", [acme.adminId]))[0]
              ?.n,
          );
        const sessionCount = await sessions();
        await expectInternal(as(null).auth.login({ email: acme.adminEmail, password: STRONG_PASSWORD }));
        expect(await sessions()).toBe(sessionCount);
        await expectInternal(acme.admin.auth.logout());
        expect((await acme.admin.auth.me()).id).toBe(acme.adminId);

        await expectInternal(
          h.call(staff.token, CLIENT).ops.purgeInvitations({ tenant: acme.tenant.slug, olderThanDays: 30 }),
        );
        expect(await invitationRow(old.id)).toBeDefined();

        expect(await countEvents()).toBe(eventsBefore);
      });

      it("email.delivery_failed: the failure is not recorded as final without its event", async () => {
        const other = await signUpFromClient();
        const bounce = await other.admin.invite.create({
          email: `bounce-${unique("x")}@invitee.example.com`,
          role: null,
        });
        await block(other.tenant.id, null);
        await expect(h.deliverEmails()).rejects.toThrow();
        expect((await invitationRow(bounce.id))?.email_delivery).toBe("pending");
        expect(await events("action = 'email.delivery_failed' and target_id = ?", [bounce.id])).toEqual([]);
      });
    });
  });

  describe("(c) events cannot be changed or deleted", () => {
    it("raw update, delete and truncate are refused by the database; the rows stay as they were", async () => {
      const acme = await signUpFromClient();
      const [event] = await events("action = 'tenant.created' and target_id = ?", [acme.tenant.id]);
      expect(event).toBeDefined();
      const id = (event as Event).id;
      const total = await countEvents();
      for (const statement of [
        ["update audit_events set action = 'tenant.renamed' where id = ?", [id]],
        ["update audit_events set details = '{}'::jsonb", []],
        ["delete from audit_events where id = ?", [id]],
        ["delete from audit_events", []],
        ["truncate audit_events", []],
      ] as const) {
        await expect(sql(statement[0], [...statement[1]]), statement[0]).rejects.toThrow(APPEND_ONLY);
      }
      // Through the ORM too.
      await expect(h.db.orm.em.fork().nativeUpdate(AuditEvent, { id }, { action: "auth.logout" })).rejects.toThrow(
        APPEND_ONLY,
      );
      await expect(h.db.orm.em.fork().nativeDelete(AuditEvent, { id })).rejects.toThrow(APPEND_ONLY);
      expect(await events("id = ?", [id])).toEqual([event]);
      expect(await countEvents()).toBe(total);
    });

    it("no procedure changes events: the audit procedures are queries, and every mutation is about something else", () => {
      const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>;
      const mutations = Object.entries(procedures)
        .filter(([, procedure]) => procedure._def.type !== "query")
        .map(([name]) => name)
        .sort();
      for (const name of ["audit.list", "audit.page", "ops.audit"]) expect(procedures[name]?._def.type).toBe("query");
      expect(Object.keys(procedures).filter((name) => name.startsWith("audit."))).toEqual(["audit.list", "audit.page"]);
      // Every mutation there is; each changes tenants, sessions, invitations, roles or webhooks — never events.
      // A new mutation must be added here deliberately (and must not touch audit_events).
      expect(mutations).toEqual(
        [
          "auth.changePassword",
          "auth.confirmPasswordReset",
          "auth.endOtherSessions",
          "auth.endSession",
          "auth.login",
          "auth.logout",
          "auth.requestPasswordReset",
          "invite.accept",
          "invite.bulk",
          "invite.create",
          "invite.extend",
          "invite.preview",
          "invite.resend",
          "invite.revoke",
          "ops.createWebhook",
          "ops.endSessions",
          "ops.extendInvitation",
          "ops.grantRole",
          "ops.purgeInvitations",
          "ops.resendInvitation",
          "ops.revokeInvitation",
          "ops.removeWebhook",
          "ops.revokeRole",
          "ops.sendPasswordReset",
          "ops.testWebhook",
          "role.grant",
          "role.revoke",
          "tenant.create",
          "user.activate",
          "user.deactivate",
          "user.remove",
          "user.updateMe",
        ].sort(),
      );
    });

    it("every mutation leaves earlier events untouched, also a purge of what they describe", async () => {
      const acme = await signUpFromClient();
      const staff = await superuser(h);
      const member = await addMember(h, acme.admin, `m-${unique("x")}@invitee.example.com`, "VIEWER");
      const invitation = await acme.admin.invite.create({ email: `i-${unique("x")}@invitee.example.com`, role: null });
      await acme.admin.invite.revoke({ id: invitation.id });
      const snapshot = await events("true", []);

      const [viewer] = await acme.admin.role.list({ userId: member.user.id });
      await acme.admin.role.revoke({ id: viewer?.id as string });
      await acme.admin.role.grant({ userId: member.user.id, role: "ANALYST" });
      await member.caller.auth.logout();
      h.clock.advance(2 * DAY_MS);
      const ops: Caller = h.call(staff.token, CLIENT);
      const result = await ops.ops.purgeInvitations({ olderThanDays: 0 });
      expect(result.purged).toBeGreaterThan(0);
      expect(await sql("select 1 from invitations where id = ?", [invitation.id])).toEqual([]);

      const after = await events("true", []);
      const byId = new Map(after.map((event) => [event.id, event]));
      for (const event of snapshot) expect(byId.get(event.id), event.id).toEqual(event);
      expect(after.length).toBeGreaterThan(snapshot.length);
    });
  });
});

describe("(d) reading the audit trail: audit.list and audit.page", () => {
  let h: Harness;
  let sql: ReturnType<typeof sqlOf>;
  let a: Awaited<ReturnType<typeof signUp>>;
  let b: Awaited<ReturnType<typeof signUp>>;
  let viewer: Caller;
  let analyst: Caller;
  let staff: Awaited<ReturnType<typeof superuser>>;
  /** Tenant C: its events happen on three consecutive UTC days at 10:00. */
  let c: Awaited<ReturnType<typeof signUp>>;
  let day1: Date;
  let invitedOnDay2: string;
  let invitedOnDay3: string;
  const emails: InvitationEmail[] = [];

  const dateOnly = (date: Date) => date.toISOString().slice(0, 10);

  beforeAll(async () => {
    h = await createHarness({ throttle: false, retryDelaysMs: [], hook: bouncingHook(emails) });
    sql = sqlOf(h);
    a = await signUp(h);
    b = await signUp(h);
    viewer = (await addMember(h, a.admin, "viewer@a.example.com", "VIEWER")).caller;
    analyst = (await addMember(h, a.admin, "analyst@a.example.com", "ANALYST")).caller;
    await addMember(h, b.admin, "member@b.example.com", "VIEWER");
    staff = await superuser(h);
    // A failed login (anonymous) and a failed delivery (system) in tenant A.
    await failure(h.call().auth.login({ email: a.adminEmail, password: "not-the-Password-1" }));
    await a.admin.invite.create({ email: "bounce@a.example.com", role: null });
    await h.deliverEmails();

    const midnight = new Date(h.clock.now());
    midnight.setUTCHours(0, 0, 0, 0);
    day1 = new Date(midnight.getTime() + DAY_MS);
    h.clock.set(new Date(day1.getTime() + 10 * 3600_000));
    c = await signUp(h);
    h.clock.set(new Date(day1.getTime() + DAY_MS + 10 * 3600_000));
    invitedOnDay2 = (await c.admin.invite.create({ email: "day2@c.example.com", role: null })).id;
    h.clock.set(new Date(day1.getTime() + 2 * DAY_MS + 10 * 3600_000));
    invitedOnDay3 = (await c.admin.invite.create({ email: "day3@c.example.com", role: null })).id;
  });
  afterAll(async () => {
    await h?.close();
  });

  async function allEventIds(tenantId?: string): Promise<string[]> {
    const rows = await sql<{ id: string }>(
      `select id from audit_events ${tenantId ? "where tenant_id = ?" : ""} order by occurred_at desc, id desc`,
      tenantId ? [tenantId] : [],
    );
    return rows.map((row) => row.id);
  }

  it("a tenant ADMIN sees exactly their tenant's events, newest first; naming another tenant changes nothing", async () => {
    const seen = await a.admin.audit.list();
    expect(seen.map((event) => event.id)).toEqual(await allEventIds(a.tenant.id));
    expect(seen.every((event) => event.tenantId === a.tenant.id)).toBe(true);
    expect(seen.map((event) => event.action)).toEqual(
      expect.arrayContaining(["tenant.created", "invitation.accepted", "auth.login_failed", "email.delivery_failed"]),
    );
    const named = await a.admin.audit.list({ tenant: b.tenant.slug });
    expect(named.map((event) => event.id)).toEqual(seen.map((event) => event.id));
    const page = await a.admin.audit.page({ tenant: b.tenant.slug, limit: 1000 });
    expect(page.count).toBe(seen.length);
    expect(page.results.map((event) => event.id)).toEqual(seen.map((event) => event.id));
    expect(page.results.every((event) => event.tenantId === a.tenant.id)).toBe(true);
  });

  it("VIEWER and ANALYST are FORBIDDEN; anonymous is UNAUTHORIZED", async () => {
    for (const caller of [viewer, analyst]) {
      expect((await failure(caller.audit.list())).code).toBe("FORBIDDEN");
      expect((await failure(caller.audit.page({ limit: 10 }))).code).toBe("FORBIDDEN");
    }
    expect((await failure(h.call().audit.list())).code).toBe("UNAUTHORIZED");
    expect((await failure(h.call().audit.page({ limit: 10 }))).code).toBe("UNAUTHORIZED");
  });

  it("a superuser sees every event, or one tenant's with `tenant` (id or slug)", async () => {
    const everything = await staff.caller.audit.list();
    expect(everything.map((event) => event.id)).toEqual(await allEventIds());
    const tenants = new Set(everything.map((event) => event.tenantId));
    for (const tenant of [a.tenant.id, b.tenant.id, c.tenant.id, null]) expect(tenants.has(tenant)).toBe(true);

    const bySlug = await staff.caller.audit.list({ tenant: b.tenant.slug });
    expect(bySlug.map((event) => event.id)).toEqual(await allEventIds(b.tenant.id));
    const byId = await staff.caller.audit.list({ tenant: b.tenant.id });
    expect(byId).toEqual(bySlug);
    // ops.audit answers the same.
    expect(await staff.caller.ops.audit({ tenant: b.tenant.slug })).toEqual(bySlug);
  });

  it("newest first", async () => {
    const everything = await staff.caller.audit.list();
    for (let index = 1; index < everything.length; index++) {
      const newer = everything[index - 1] as (typeof everything)[number];
      const older = everything[index] as (typeof everything)[number];
      expect(Date.parse(newer.occurredAt)).toBeGreaterThanOrEqual(Date.parse(older.occurredAt));
    }
    const cEvents = await staff.caller.audit.list({ tenant: c.tenant.slug });
    expect(cEvents[0]?.targetId).toBe(invitedOnDay3);
    expect(cEvents[1]?.targetId).toBe(invitedOnDay2);
    expect(
      cEvents
        .slice(2)
        .map((event) => event.action)
        .sort(),
    ).toEqual(["auth.login_succeeded", "tenant.created"]);
  });

  it("filters by action", async () => {
    const accepted = await staff.caller.audit.list({ action: "invitation.accepted" });
    expect(accepted.length).toBe(3);
    expect(accepted.every((event) => event.action === "invitation.accepted")).toBe(true);
    const scoped = await a.admin.audit.list({ action: "invitation.accepted" });
    expect(scoped).toHaveLength(2);
    const bad = await failure(a.admin.audit.list({ action: "invitation.deleted" as "invitation.accepted" }));
    expect(bad.code).toBe("BAD_REQUEST");
    expect(errorDetails(bad).fieldErrors).toHaveProperty("action");
  });

  it("filters by actor: a user's id or email (any case), `system`, `cli`, `anonymous`", async () => {
    const byId = await staff.caller.audit.list({ actor: a.adminId });
    expect(byId.length).toBeGreaterThan(3);
    expect(byId.every((event) => event.actorId === a.adminId)).toBe(true);
    expect(byId.map((event) => event.action)).toEqual(
      expect.arrayContaining(["tenant.created", "auth.login_succeeded", "invitation.created"]),
    );
    expect(await staff.caller.audit.list({ actor: a.adminEmail.toUpperCase() })).toEqual(byId);

    const system = await staff.caller.audit.list({ actor: "system" });
    expect(system.map((event) => event.action)).toEqual(["email.delivery_failed"]);
    const cli = await staff.caller.audit.list({ actor: "cli" });
    expect(cli.map((event) => [event.action, event.targetId])).toEqual([["superuser.created", staff.user.id]]);
    const anonymous = await staff.caller.audit.list({ actor: "anonymous" });
    expect(anonymous.map((event) => event.action)).toEqual(["auth.login_failed"]);
    expect(anonymous.every((event) => event.actorType === "anonymous")).toBe(true);
    // A tenant ADMIN's filter stays inside the tenant.
    expect(await a.admin.audit.list({ actor: b.adminId })).toEqual([]);
    expect(await staff.caller.audit.list({ actor: "nobody@nowhere.example.com" })).toEqual([]);
  });

  it("filters by since/until, as dates (midnight UTC) or ISO instants, with since inclusive", async () => {
    const day2 = new Date(day1.getTime() + DAY_MS);
    const day3 = new Date(day1.getTime() + 2 * DAY_MS);
    const ids = async (filter: { since?: string; until?: string }) =>
      (await staff.caller.audit.list({ tenant: c.tenant.slug, ...filter })).map((event) => event.targetId);
    const signUpTargets = [c.adminId, c.tenant.id]; // login_succeeded (user), tenant.created (tenant)

    expect(await ids({ since: dateOnly(day2) })).toEqual([invitedOnDay3, invitedOnDay2]);
    expect(await ids({ since: dateOnly(day3) })).toEqual([invitedOnDay3]);
    expect((await ids({ until: dateOnly(day2) })).sort()).toEqual([...signUpTargets].sort());
    expect(await ids({ since: dateOnly(day2), until: dateOnly(day3) })).toEqual([invitedOnDay2]);

    const day2At10 = new Date(day2.getTime() + 10 * 3600_000);
    expect(await ids({ since: day2At10.toISOString() })).toEqual([invitedOnDay3, invitedOnDay2]);
    expect(await ids({ since: new Date(day2At10.getTime() + 1).toISOString() })).toEqual([invitedOnDay3]);
    expect(await ids({ since: day2At10.toISOString(), until: new Date(day2At10.getTime() + 1).toISOString() })).toEqual(
      [invitedOnDay2],
    );
    expect((await ids({ until: new Date(day2At10.getTime() - 1).toISOString() })).sort()).toEqual(
      [...signUpTargets].sort(),
    );
    // An offset other than Z names the same instant.
    const plusTwo = `${dateOnly(day2)}T12:00:00+02:00`;
    expect(await ids({ since: plusTwo })).toEqual([invitedOnDay3, invitedOnDay2]);

    for (const since of ["yesterday", "2026-13-45", "29/11/2026"]) {
      const bad = await failure(staff.caller.audit.list({ since }));
      expect(bad.code, since).toBe("BAD_REQUEST");
      expect(errorDetails(bad).fieldErrors).toHaveProperty("since");
    }
  });

  it("audit.page covers the whole list exactly once, in order, with the total count", async () => {
    for (const [caller, tenant] of [
      [staff.caller, undefined],
      [staff.caller, a.tenant.slug],
      [a.admin, undefined],
    ] as const) {
      const whole = (await caller.audit.list(tenant ? { tenant } : {})).map((event) => event.id);
      const paged: string[] = [];
      for (let offset = 0; offset < whole.length + 3; offset += 3) {
        const page = await caller.audit.page({ tenant, limit: 3, offset });
        expect(page.count).toBe(whole.length);
        expect(page.results.length).toBe(Math.max(0, Math.min(3, whole.length - offset)));
        paged.push(...page.results.map((event) => event.id));
      }
      expect(paged).toEqual(whole);
      expect(new Set(paged).size).toBe(paged.length);
    }
    const filtered = await a.admin.audit.page({ action: "invitation.accepted", limit: 1, offset: 1 });
    expect(filtered.count).toBe(2);
    expect(filtered.results).toHaveLength(1);
  });
});
