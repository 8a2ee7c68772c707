import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failure } from "../test-support/errors.js";
import { addMember, createHarness, type Harness, STRONG_PASSWORD, superuser, unique } from "../test-support/harness.js";
import { errorDetails } from "../trpc/errors.js";
import { DAY_MS } from "./clock.js";
import { auditTrail, bouncingHook, CLIENT } from "./test-support/audit-trail.js";
import { createSuperuser } from "./users.js";

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

  const { sql, as, events, countEvents, signUpFromClient } = auditTrail(() => h);

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
});
