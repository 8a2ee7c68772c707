import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failure, fieldErrorsOf } from "../test-support/errors.js";
import { addMember, createHarness, type Harness, signUp } from "../test-support/harness.js";
import { expectFieldErrors, guardQueries } from "./test-support/guards.js";

/**
 * Every guard and decision of API.md, proven through the tRPC callers on the
 * real database. Each test signs up tenants of its own.
 */

describe("guards and decisions of API.md, through the tRPC procedures", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ throttle: false });
  });
  afterAll(async () => {
    await h?.close();
  });

  const { sql } = guardQueries(() => h);

  describe("role assignments", () => {
    it("refuses to grant to a user of another tenant (userId)", async () => {
      const a = await signUp(h);
      const b = await signUp(h);
      const { user } = await addMember(h, a.admin, "grant-target@guards.example.com", null);
      await expectFieldErrors(b.admin.role.grant({ userId: user.id, role: "VIEWER" }), {
        userId: [`Invalid pk "${user.id}" - object does not exist.`],
      });
      expect(await a.admin.role.list({ userId: user.id })).toEqual([]);
      expect(await sql("select 1 from role_assignments where user_id = ?", [user.id])).toHaveLength(0);
    });

    it("refuses to grant to a user that does not exist (userId)", async () => {
      const { admin } = await signUp(h);
      const nobody = randomUUID();
      await expectFieldErrors(admin.role.grant({ userId: nobody, role: "ANALYST" }), {
        userId: [`Invalid pk "${nobody}" - object does not exist.`],
      });
    });

    it("refuses to grant a role the user already holds (nonFieldErrors)", async () => {
      const { admin } = await signUp(h);
      const { user } = await addMember(h, admin, "holder@guards.example.com", "ANALYST");
      await expectFieldErrors(admin.role.grant({ userId: user.id, role: "ANALYST" }), {
        nonFieldErrors: ["The fields user, role must make a unique set."],
      });
      expect((await admin.role.list({ userId: user.id })).map((a) => a.role)).toEqual(["ANALYST"]);
      // A different role is fine.
      await admin.role.grant({ userId: user.id, role: "VIEWER" });
      expect((await admin.role.list({ userId: user.id })).map((a) => a.role).sort()).toEqual(["ANALYST", "VIEWER"]);
    });

    it.each(["OWNER", "viewer", ""])("refuses to grant the role %j (role)", async (role) => {
      const { admin } = await signUp(h);
      const { user } = await addMember(h, admin, "unknown-role@guards.example.com", null);
      await expectFieldErrors(admin.role.grant({ userId: user.id, role: role as never }), {
        role: [`"${role}" is not a valid choice.`],
      });
      expect(await admin.role.list({ userId: user.id })).toEqual([]);
    });

    it("answers NOT_FOUND when revoking another tenant's assignment, which stays", async () => {
      const a = await signUp(h);
      const b = await signUp(h);
      const { user } = await addMember(h, a.admin, "keep@guards.example.com", "VIEWER");
      const [assignment] = await a.admin.role.list({ userId: user.id });
      expect(assignment).toBeDefined();
      const error = await failure(b.admin.role.revoke({ id: assignment?.id ?? "" }));
      expect(error.code).toBe("NOT_FOUND");
      expect(error.message).toBe("Not found.");
      expect(await a.admin.role.list({ userId: user.id })).toEqual([assignment]);
    });

    it("refuses to revoke the tenant's last ADMIN (400 without field errors), and allows it when another ADMIN exists", async () => {
      const { admin, adminId } = await signUp(h);
      const [only] = await admin.role.list({ role: "ADMIN" });
      expect(only?.userId).toBe(adminId);
      const error = await failure(admin.role.revoke({ id: only?.id ?? "" }));
      expect(error.code).toBe("BAD_REQUEST");
      expect(fieldErrorsOf(error)).toEqual({});
      expect(error.message).not.toBe("");
      expect(await admin.role.list({ role: "ADMIN" })).toEqual([only]);

      const second = await addMember(h, admin, "second-admin@guards.example.com", "ADMIN");
      await admin.role.revoke({ id: only?.id ?? "" });
      const remaining = await second.caller.role.list({ role: "ADMIN" });
      expect(remaining.map((a) => a.userId)).toEqual([second.user.id]);
      // And now the second admin is the last one.
      const last = await failure(second.caller.role.revoke({ id: remaining[0]?.id ?? "" }));
      expect(last.code).toBe("BAD_REQUEST");
      expect(fieldErrorsOf(last)).toEqual({});
    });
  });
});
