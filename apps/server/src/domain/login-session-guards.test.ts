import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failure, fieldErrorsOf } from "../test-support/errors.js";
import { addMember, createHarness, type Harness, STRONG_PASSWORD, signUp } from "../test-support/harness.js";
import { errorDetails } from "../trpc/errors.js";
import { DAY_MS } from "./clock.js";
import { guardQueries, LOGIN_FAILED, SESSION_WRITE } from "./test-support/guards.js";

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

  const { sql, sessionExpiresAt } = guardQueries(() => h);

  describe("login", () => {
    it("fails alike for a wrong password and an unknown email", async () => {
      const { adminEmail } = await signUp(h);
      const wrongPassword = await failure(h.call().auth.login({ email: adminEmail, password: "Wrong-password-42" }));
      const unknownEmail = await failure(
        h.call().auth.login({ email: `nobody-${randomUUID()}@example.com`, password: STRONG_PASSWORD }),
      );
      for (const error of [wrongPassword, unknownEmail]) {
        expect(error.code).toBe("BAD_REQUEST");
        expect(fieldErrorsOf(error)).toEqual({ nonFieldErrors: [LOGIN_FAILED] });
      }
      expect(unknownEmail.message).toBe(wrongPassword.message);
      expect(errorDetails(unknownEmail)).toEqual(errorDetails(wrongPassword));
    });

    it("asks for the tenant when one email and password match in two tenants, and logs into the named one", async () => {
      const a = await signUp(h);
      const b = await signUp(h);
      const email = "twice@guards.example.com";
      const inA = await addMember(h, a.admin, email, "VIEWER");
      const inB = await addMember(h, b.admin, email, "ANALYST");

      const error = await failure(h.call().auth.login({ email, password: STRONG_PASSWORD }));
      expect(error.code).toBe("BAD_REQUEST");
      const fields = fieldErrorsOf(error);
      expect(Object.keys(fields)).toEqual(["tenant"]);
      expect(fields.tenant).toHaveLength(1);

      const byId = await h.call().auth.login({ email, password: STRONG_PASSWORD, tenant: a.tenant.id });
      expect(byId.user).toMatchObject({ id: inA.user.id, tenantId: a.tenant.id, roles: ["VIEWER"] });
      const bySlug = await h.call().auth.login({ email, password: STRONG_PASSWORD, tenant: b.tenant.slug });
      expect(bySlug.user).toMatchObject({ id: inB.user.id, tenantId: b.tenant.id, roles: ["ANALYST"] });
      expect((await h.call(bySlug.token).user.me()).tenantId).toBe(b.tenant.id);
    });

    it("logs into the one account whose password matches when the email exists in two tenants", async () => {
      const a = await signUp(h);
      const b = await signUp(h);
      const email = "one-match@guards.example.com";
      await addMember(h, a.admin, email, null);
      const invitation = await b.admin.invite.create({ email, role: null });
      const other = "Another-strong-Passw0rd";
      const inB = await h.call().invite.accept({ token: invitation.token, password: other });
      const login = await h.call().auth.login({ email, password: other });
      expect(login.user).toMatchObject({ id: inB.id, tenantId: b.tenant.id });
    });

    it("refuses the right password for the wrong tenant like a wrong password", async () => {
      const a = await signUp(h);
      const b = await signUp(h);
      const error = await failure(
        h.call().auth.login({ email: a.adminEmail, password: STRONG_PASSWORD, tenant: b.tenant.slug }),
      );
      expect(error.code).toBe("BAD_REQUEST");
      expect(fieldErrorsOf(error)).toEqual({ nonFieldErrors: [LOGIN_FAILED] });
    });
  });

  describe("sessions", () => {
    it("logout ends that session only; another session of the same user still works", async () => {
      const { adminEmail, adminId, adminToken } = await signUp(h);
      const first = await h.call().auth.login({ email: adminEmail, password: STRONG_PASSWORD });
      const second = await h.call().auth.login({ email: adminEmail, password: STRONG_PASSWORD });
      expect(first.token).not.toBe(second.token);
      await h.call(first.token).auth.logout();

      const error = await failure(h.call(first.token).auth.me());
      expect(error.code).toBe("UNAUTHORIZED");
      expect(error.message).toBe("Invalid token.");
      expect((await h.call(second.token).auth.me()).id).toBe(adminId);
      expect((await h.call(adminToken).user.me()).id).toBe(adminId);
    });

    it("stores neither the session token nor its secret", async () => {
      const { adminToken, adminId } = await signUp(h);
      const [, secret = ""] = adminToken.split(".");
      expect(secret).toHaveLength(24);
      const rows = await sql("select * from sessions where user_id = ?", [adminId]);
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(secret);
    });

    it("expires a session 30 days after its last renewal (UNAUTHORIZED, Invalid token.)", async () => {
      const { adminEmail } = await signUp(h);
      const login = await h.call().auth.login({ email: adminEmail, password: STRONG_PASSWORD });
      expect(new Date(login.expiresAt).getTime()).toBe(h.clock.now().getTime() + 30 * DAY_MS);
      h.clock.advance(30 * DAY_MS);
      const error = await failure(h.call(login.token).auth.me());
      expect(error.code).toBe("UNAUTHORIZED");
      expect(error.message).toBe("Invalid token.");
      expect(errorDetails(error).authentication).toBe("invalid");
    });

    it("does not write the session on a request while more than half of its lifetime remains", async () => {
      const { adminEmail } = await signUp(h);
      const login = await h.call().auth.login({ email: adminEmail, password: STRONG_PASSWORD });
      const before = await sessionExpiresAt(login.token);
      expect(before).toBe(new Date(login.expiresAt).getTime());
      h.clock.advance(1 * DAY_MS);
      h.resetQueries();
      await h.call(login.token).auth.me();
      expect(h.queries.filter((q) => SESSION_WRITE.test(q))).toEqual([]);
      expect(await sessionExpiresAt(login.token)).toBe(before);
    });

    it("slides the expiry forward once less than half of the lifetime remains (after 16 days of use)", async () => {
      const { adminEmail } = await signUp(h);
      const login = await h.call().auth.login({ email: adminEmail, password: STRONG_PASSWORD });
      const original = await sessionExpiresAt(login.token);
      h.clock.advance(16 * DAY_MS);
      h.resetQueries();
      await h.call(login.token).auth.me();
      expect(h.queries.filter((q) => SESSION_WRITE.test(q))).toHaveLength(1);
      const renewed = await sessionExpiresAt(login.token);
      expect(renewed).toBe(h.clock.now().getTime() + 30 * DAY_MS);
      expect(renewed).toBeGreaterThan(original);
      // Past the original expiry, the renewed session still works.
      h.clock.advance(20 * DAY_MS);
      expect((await h.call(login.token).auth.me()).email).toBe(adminEmail);
    });

    it.each([
      { kind: "garbage", token: "not-a-token" },
      { kind: "empty", token: "" },
      { kind: "well-formed but unknown", token: `${"a".repeat(24)}.${"b".repeat(24)}` },
      { kind: "a uuid", token: randomUUID() },
    ])("answers a $kind bearer token with UNAUTHORIZED Invalid token.", async ({ token }) => {
      const error = await failure(h.call(token).auth.me());
      expect(error.code).toBe("UNAUTHORIZED");
      expect(error.message).toBe("Invalid token.");
      expect(errorDetails(error).authentication).toBe("invalid");
    });

    it("answers a real session id with a tampered secret with UNAUTHORIZED Invalid token.", async () => {
      const { adminToken } = await signUp(h);
      const [id, secret = ""] = adminToken.split(".");
      const tampered = `${id}.${secret.slice(0, -1)}${secret.endsWith("a") ? "b" : "a"}`;
      const error = await failure(h.call(tampered).auth.me());
      expect(error.code).toBe("UNAUTHORIZED");
      expect(error.message).toBe("Invalid token.");
      // The real token is unaffected.
      expect((await h.call(adminToken).auth.me()).roles).toEqual(["ADMIN"]);
    });
  });
});
