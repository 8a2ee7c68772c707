import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InvitationEmail } from "../mail/hook.js";
import { failure } from "../test-support/errors.js";
import { addMember, createHarness, type Harness, STRONG_PASSWORD, superuser, unique } from "../test-support/harness.js";
import { startReceiver } from "../test-support/webhook-receiver.js";
import { DEFAULT_WEBHOOK_RETRY_DELAYS_MS } from "../webhooks/delivery.js";
import { AUDIT_ACTIONS, type AuditAction } from "./audit.js";
import { DAY_MS } from "./clock.js";
import { auditTrail, bouncingHook, CLIENT, ISO_UTC, tokenOf } from "./test-support/audit-trail.js";
import { createSuperuser } from "./users.js";

/**
 * The audit trail (issue #6): every change is recorded, in the same
 * transaction as the change, with who, where, what and from which client;
 * events can never be changed or deleted; tenant ADMINs and superusers read
 * it through `audit.list` / `audit.page`.
 */

describe("the audit trail records every change", () => {
  let h: Harness;
  const emails: InvitationEmail[] = [];
  /** Everything secret seen during the tests: no event may contain any of it. */
  const secrets = new Set<string>([STRONG_PASSWORD]);
  /** The actions the tests below proved. */
  const proven = new Set<AuditAction>();

  beforeAll(async () => {
    h = await createHarness({ throttle: false, retryDelaysMs: [], hook: bouncingHook(emails) });
  });
  afterAll(async () => {
    await h?.close();
  });

  const { sql, tick, as, rememberToken, events, theEvent, userActor, fromClient, signUpFromClient } = auditTrail(
    () => h,
    { secrets, proven },
  );

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
});
