import { AuditEvent } from "@tenantry/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addMember, type Caller, createHarness, type Harness, superuser, unique } from "../test-support/harness.js";
import { appRouter } from "../trpc/router.js";
import { DAY_MS } from "./clock.js";
import { APPEND_ONLY, auditTrail, bouncingHook, CLIENT, type Event } from "./test-support/audit-trail.js";

/**
 * The audit trail (issue #6): every change is recorded, in the same
 * transaction as the change, with who, where, what and from which client;
 * events can never be changed or deleted; tenant ADMINs and superusers read
 * it through `audit.list` / `audit.page`.
 */

describe("the audit trail records every change", () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness({ throttle: false, retryDelaysMs: [], hook: bouncingHook([]) });
  });
  afterAll(async () => {
    await h?.close();
  });

  const { sql, events, countEvents, signUpFromClient } = auditTrail(() => h);

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
      for (const name of ["audit.list", "audit.page", "audit.cursor", "ops.audit"])
        expect(procedures[name]?._def.type).toBe("query");
      expect(Object.keys(procedures).filter((name) => name.startsWith("audit."))).toEqual([
        "audit.list",
        "audit.page",
        "audit.cursor",
      ]);
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
