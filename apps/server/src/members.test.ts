import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failure, fieldErrorsOf } from "./test-support/errors.js";
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
import { errorDetails } from "./trpc/errors.js";

/**
 * The member lifecycle: deactivate, activate, delete, edit one's own names,
 * and the guard that a tenant always keeps an active ADMIN, also under
 * concurrent removals.
 */
describe("member lifecycle", () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness({ throttle: false });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function sql<Row>(text: string, params: unknown[] = []): Promise<Row[]> {
    return h.db.orm.em.getConnection().execute<Row[]>(text, params);
  }

  async function expectInvalidToken(caller: Caller) {
    const error = await failure(caller.user.me());
    expect(error.code).toBe("UNAUTHORIZED");
    expect(error.message).toBe("Invalid token.");
    expect(errorDetails(error).authentication).toBe("invalid");
  }

  describe("deactivate", () => {
    it("ends every session at once: the member's token is refused on the very next request", async () => {
      const a = await signUp(h);
      const email = `${unique("leaver")}@example.com`;
      const member = await addMember(h, a.admin, email, "ANALYST");
      const { token: second } = await h.call().auth.login({ email, password: STRONG_PASSWORD });
      expect((await member.caller.user.me()).isActive).toBe(true);

      const deactivated = await a.admin.user.deactivate({ id: member.user.id });
      expect(deactivated).toMatchObject({ id: member.user.id, isActive: false, roles: ["ANALYST"] });

      await expectInvalidToken(member.caller);
      await expectInvalidToken(h.call(second));
      expect(await sql("select id from sessions where user_id = ?", [member.user.id])).toEqual([]);
      // Role assignments stay.
      expect((await a.admin.role.list({ userId: member.user.id })).map((x) => x.role)).toEqual(["ANALYST"]);
    });

    it("a deactivated member's login fails exactly as a wrong password does", async () => {
      const a = await signUp(h);
      const email = `${unique("inactive")}@example.com`;
      const member = await addMember(h, a.admin, email, null);
      await a.admin.user.deactivate({ id: member.user.id });
      const inactive = await failure(h.call().auth.login({ email, password: STRONG_PASSWORD }));
      const wrong = await failure(h.call().auth.login({ email: a.adminEmail, password: `${STRONG_PASSWORD}x` }));
      expect(inactive.code).toBe(wrong.code);
      expect(inactive.message).toBe(wrong.message);
      expect(fieldErrorsOf(inactive)).toEqual(fieldErrorsOf(wrong));
      expect(fieldErrorsOf(inactive)).toEqual({ nonFieldErrors: ["Unable to log in with provided credentials."] });
    });

    it("is idempotent: a second deactivation answers the same user and records nothing more", async () => {
      const a = await signUp(h);
      const member = await addMember(h, a.admin, `${unique("twice")}@example.com`, null);
      const first = await a.admin.user.deactivate({ id: member.user.id });
      const second = await a.admin.user.deactivate({ id: member.user.id });
      expect(second).toEqual(first);
      const events = await sql<{ action: string }>(
        "select action from audit_events where target_id = ? and action like 'user.%'",
        [member.user.id],
      );
      expect(events.map((e) => e.action)).toEqual(["user.deactivated"]);
    });

    it("activate lets the member log in again; the ended sessions stay ended", async () => {
      const a = await signUp(h);
      const email = `${unique("returning")}@example.com`;
      const member = await addMember(h, a.admin, email, "VIEWER");
      await a.admin.user.deactivate({ id: member.user.id });
      const activated = await a.admin.user.activate({ id: member.user.id });
      expect(activated).toMatchObject({ id: member.user.id, isActive: true, roles: ["VIEWER"] });
      await expectInvalidToken(member.caller);
      const { token } = await h.call().auth.login({ email, password: STRONG_PASSWORD });
      expect((await h.call(token).user.me()).id).toBe(member.user.id);
    });

    it("user.list filters on isActive", async () => {
      const a = await signUp(h);
      const member = await addMember(h, a.admin, `${unique("filtered")}@example.com`, null);
      await a.admin.user.deactivate({ id: member.user.id });
      expect((await a.admin.user.list({ isActive: false })).map((u) => u.id)).toEqual([member.user.id]);
      expect((await a.admin.user.list({ isActive: true })).map((u) => u.id)).toEqual([a.adminId]);
      expect(await a.admin.user.list()).toHaveLength(2);
      expect(await a.admin.user.page({ limit: 10, isActive: false })).toMatchObject({ count: 1 });
    });
  });

  describe("delete", () => {
    it("removes the user, their roles and sessions; audit events stay; invitations they sent keep invitedBy null", async () => {
      const a = await signUp(h);
      const email = `${unique("deleted")}@example.com`;
      const member = await addMember(h, a.admin, email, "ADMIN");
      const sent = await member.caller.invite.create({ email: `${unique("their-invitee")}@example.com`, role: null });
      await a.admin.user.remove({ id: member.user.id });

      await expectInvalidToken(member.caller);
      expect(await sql("select id from users where id = ?", [member.user.id])).toEqual([]);
      expect(await sql("select id from role_assignments where user_id = ?", [member.user.id])).toEqual([]);
      expect(await sql("select id from sessions where user_id = ?", [member.user.id])).toEqual([]);
      expect((await a.admin.invite.list()).find((i) => i.id === sent.id)?.invitedById).toBeNull();
      const events = await sql<{ action: string }>("select action from audit_events where actor_id = ?", [
        member.user.id,
      ]);
      expect(events.map((e) => e.action)).toContain("invitation.created");
      const deleted = await sql<{ details: Record<string, unknown> }>(
        "select details from audit_events where action = 'user.deleted' and target_id = ?",
        [member.user.id],
      );
      expect(deleted).toEqual([{ details: { email, roles: ["ADMIN"] } }]);
      // The address may be invited again.
      const again = await a.admin.invite.create({ email, role: "VIEWER" });
      const user = await h.call().invite.accept({ token: again.token, password: STRONG_PASSWORD });
      expect(user.id).not.toBe(member.user.id);
      expect((await a.admin.user.list()).map((u) => u.email)).toContain(email);
    });
  });

  describe("scope", () => {
    it("a user of another tenant, a superuser, or no user is NOT_FOUND, and nothing changes", async () => {
      const a = await signUp(h);
      const b = await signUp(h);
      const su = await superuser(h);
      const memberOfB = await addMember(h, b.admin, `${unique("other")}@example.com`, null);
      for (const id of [memberOfB.user.id, su.user.id, b.adminId, crypto.randomUUID()]) {
        for (const act of [
          () => a.admin.user.deactivate({ id }),
          () => a.admin.user.activate({ id }),
          () => a.admin.user.remove({ id }),
        ]) {
          const error = await failure(act());
          expect(error.code).toBe("NOT_FOUND");
        }
      }
      // A superuser cannot deactivate a superuser either.
      expect((await failure(su.caller.user.deactivate({ id: su.user.id }))).code).toBe("NOT_FOUND");
      expect((await memberOfB.caller.user.me()).isActive).toBe(true);
      // A superuser may deactivate any tenant's member.
      expect(await su.caller.user.deactivate({ id: memberOfB.user.id })).toMatchObject({ isActive: false });
    });

    it("non-admins are FORBIDDEN", async () => {
      const a = await signUp(h);
      const viewer = await addMember(h, a.admin, `${unique("viewer")}@example.com`, "VIEWER");
      const error = await failure(viewer.caller.user.deactivate({ id: a.adminId }));
      expect(error.code).toBe("FORBIDDEN");
    });
  });

  describe("updateMe", () => {
    it("changes only the caller's own names, trimmed, and records one event", async () => {
      const a = await signUp(h);
      const updated = await a.admin.user.updateMe({ firstName: "  Ada ", lastName: "Lovelace" });
      expect(updated).toMatchObject({ id: a.adminId, firstName: "Ada", lastName: "Lovelace" });
      expect(await a.admin.user.me()).toEqual(updated);
      h.clock.advance(1000);
      const partial = await a.admin.user.updateMe({ lastName: "King" });
      expect(partial).toMatchObject({ firstName: "Ada", lastName: "King" });
      const events = await sql<{ details: unknown }>(
        "select details from audit_events where action = 'user.updated' and target_id = ? order by occurred_at, id",
        [a.adminId],
      );
      expect(events.map((e) => e.details)).toEqual([{ firstName: "Ada", lastName: "Lovelace" }, { lastName: "King" }]);
      const tooLong = await failure(a.admin.user.updateMe({ firstName: "x".repeat(151) }));
      expect(Object.keys(fieldErrorsOf(tooLong))).toEqual(["firstName"]);
    });
  });

  describe("a tenant keeps an active ADMIN", () => {
    it("refuses to deactivate or delete the last active ADMIN, or revoke its ADMIN role (400 detail)", async () => {
      const a = await signUp(h);
      for (const act of [
        () => a.admin.user.deactivate({ id: a.adminId }),
        () => a.admin.user.remove({ id: a.adminId }),
      ]) {
        const error = await failure(act());
        expect(error.code).toBe("BAD_REQUEST");
        expect(error.message).toContain("last ADMIN");
        expect(fieldErrorsOf(error)).toEqual({});
      }
      expect((await a.admin.user.me()).isActive).toBe(true);
    });

    it("inactive admins do not count: with the other ADMIN deactivated, the last active one stays", async () => {
      const a = await signUp(h);
      const second = await addMember(h, a.admin, `${unique("second")}@example.com`, "ADMIN");
      await a.admin.user.deactivate({ id: second.user.id });
      const [own] = await a.admin.role.list({ userId: a.adminId, role: "ADMIN" });
      for (const act of [
        () => a.admin.user.deactivate({ id: a.adminId }),
        () => a.admin.user.remove({ id: a.adminId }),
        () => a.admin.role.revoke({ id: own?.id ?? "" }),
      ]) {
        const error = await failure(act());
        expect(error.code).toBe("BAD_REQUEST");
        expect(error.message).toContain("last ADMIN");
      }
      // The inactive admin's own ADMIN role may go: it does not change who can administer.
      const [theirs] = await a.admin.role.list({ userId: second.user.id, role: "ADMIN" });
      await a.admin.role.revoke({ id: theirs?.id ?? "" });
      // With another active ADMIN, the first one may leave.
      const third = await addMember(h, a.admin, `${unique("third")}@example.com`, "ADMIN");
      await third.caller.user.deactivate({ id: a.adminId });
      await third.caller.user.remove({ id: a.adminId });
    });
  });

  describe("concurrent removals of the two admins of a tenant: exactly one succeeds", () => {
    type Removal = "deactivate" | "delete" | "revoke";
    const KINDS: Removal[] = ["deactivate", "delete", "revoke"];
    const PAIRS = KINDS.flatMap((first) => KINDS.map((second) => [first, second] as const));

    async function twoAdmins() {
      const a = await signUp(h);
      const b = await addMember(h, a.admin, `${unique("co-admin")}@example.com`, "ADMIN");
      const assignments = await a.admin.role.list({ role: "ADMIN" });
      const assignmentOf = (userId: string) => assignments.find((x) => x.userId === userId)?.id ?? "";
      return { a, b, assignmentOf };
    }

    function remove(by: Caller, kind: Removal, userId: string, assignmentId: string): Promise<unknown> {
      if (kind === "deactivate") return by.user.deactivate({ id: userId });
      if (kind === "delete") return by.user.remove({ id: userId });
      return by.role.revoke({ id: assignmentId });
    }

    async function activeAdmins(tenantId: string): Promise<string[]> {
      const rows = await sql<{ id: string }>(
        `select u.id from role_assignments ra join users u on u.id = ra.user_id
         where ra.tenant_id = ? and ra.role = 'ADMIN' and u.is_active`,
        [tenantId],
      );
      return rows.map((row) => row.id);
    }

    async function settle(calls: Promise<unknown>[]) {
      const settled = await Promise.allSettled(calls);
      const ok = settled.filter((s) => s.status === "fulfilled");
      const errors = settled.flatMap((s) => (s.status === "rejected" ? [s.reason as unknown] : []));
      for (const error of errors) expect(error).toBeInstanceOf(TRPCError);
      return { ok, errors: errors as TRPCError[] };
    }

    it.each(PAIRS)("by a superuser: %s one while %s the other", async (first, second) => {
      const su = await superuser(h);
      const { a, b, assignmentOf } = await twoAdmins();
      h.resetQueries();
      const { ok, errors } = await settle([
        remove(su.caller, first, a.adminId, assignmentOf(a.adminId)),
        remove(su.caller, second, b.user.id, assignmentOf(b.user.id)),
      ]);
      // Both reached the tenant lock: the guard decided, serialized.
      expect(h.queries.filter((q) => /from tenants .* for no key update/s.test(q))).toHaveLength(2);
      expect(ok).toHaveLength(1);
      expect(errors.map((e) => [e.code, e.message.includes("last ADMIN")])).toEqual([["BAD_REQUEST", true]]);
      expect(await activeAdmins(a.tenant.id)).toHaveLength(1);
    });

    it.each(PAIRS)("by each other: A %s B while B %s A", async (first, second) => {
      const { a, b, assignmentOf } = await twoAdmins();
      const { ok, errors } = await settle([
        remove(a.admin, first, b.user.id, assignmentOf(b.user.id)),
        remove(b.caller, second, a.adminId, assignmentOf(a.adminId)),
      ]);
      expect(ok).toHaveLength(1);
      // The loser was refused by the guard, or (if the winner had already removed it) no longer authenticated or an ADMIN.
      expect(errors).toHaveLength(1);
      expect(["BAD_REQUEST", "UNAUTHORIZED", "FORBIDDEN"]).toContain(errors[0]?.code);
      expect(await activeAdmins(a.tenant.id)).toHaveLength(1);
    });
  });
});
