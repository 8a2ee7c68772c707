import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, STRONG_PASSWORD, signUp, unique } from "../test-support/harness.js";
import {
  COMMON,
  expectFieldErrors,
  guardQueries,
  NUMERIC,
  SIMILAR_EMAIL,
  SLUG,
  TENANT_NAME_TAKEN,
  TOO_LONG,
  TOO_SHORT,
} from "./test-support/guards.js";

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

  const { sql, invitationStatus } = guardQueries(() => h);

  describe("tenant sign-up", () => {
    it("refuses a tenant name that differs from an existing one only in case or surrounding blanks (name)", async () => {
      const name = unique("CaseName");
      await h.call().tenant.create({ name, adminEmail: "first@case.example.com", adminPassword: STRONG_PASSWORD });

      for (const variant of [name.toUpperCase(), `  ${name.toLowerCase()}  `]) {
        await expectFieldErrors(
          h
            .call()
            .tenant.create({ name: variant, adminEmail: "second@case.example.com", adminPassword: STRONG_PASSWORD }),
          { name: [TENANT_NAME_TAKEN] },
        );
      }
      const rows = await sql<{ n: string }>("select count(*)::int as n from tenants where lower(name) = lower(?)", [
        name,
      ]);
      expect(Number(rows[0]?.n)).toBe(1);
    });

    const weakPasswords = [
      { problem: "too short", password: "Xk9#mQ2", message: TOO_SHORT },
      { problem: "entirely numeric", password: "83920174651", message: NUMERIC },
      { problem: "common", password: "iloveyou", message: COMMON },
      { problem: "too long (1025 characters)", password: `${"xq".repeat(512)}z`, message: TOO_LONG },
      { problem: "too similar to the email", password: "quentin.blackwood", message: SIMILAR_EMAIL },
    ];

    it.each(weakPasswords)(
      "refuses an admin password that is $problem (adminPassword)",
      async ({ password, message }) => {
        const name = unique("WeakPassword");
        await expectFieldErrors(
          h.call().tenant.create({ name, adminEmail: "quentin.blackwood@example.com", adminPassword: password }),
          { adminPassword: [message] },
        );
        expect(await sql("select 1 from tenants where name = ?", [name])).toHaveLength(0);
      },
    );

    it("accepts an admin password of exactly 1024 characters", async () => {
      const created = await h.call().tenant.create({
        name: unique("LongPassword"),
        adminEmail: "long@example.com",
        adminPassword: "xq".repeat(512),
      });
      const login = await h
        .call()
        .auth.login({ email: "long@example.com", password: "xq".repeat(512), tenant: created.id });
      expect(login.user.id).toBe(created.adminUserId);
    });

    it.each(weakPasswords)(
      "refuses an accepting password that is $problem (password), and the token stays usable",
      async ({ password, message }) => {
        const { admin, tenant } = await signUp(h);
        const invitation = await admin.invite.create({ email: "quentin.blackwood@example.com", role: "VIEWER" });
        await expectFieldErrors(h.call().invite.accept({ token: invitation.token, password }), { password: [message] });
        expect(await invitationStatus(admin, invitation.id)).toBe("pending");
        const user = await h.call().invite.accept({ token: invitation.token, password: STRONG_PASSWORD });
        expect(user.tenantId).toBe(tenant.id);
      },
    );

    it("stores SQL-looking names verbatim and derives a sensible slug", async () => {
      const name = "Robert'); DROP TABLE tenants;--";
      const created = await h.call().tenant.create({
        name,
        adminEmail: "bobby@tables.example.com",
        adminPassword: STRONG_PASSWORD,
      });
      expect(created.name).toBe(name);
      expect(created.slug).toBe("robert-drop-table-tenants");
      const { token } = await h.call().auth.login({ email: "bobby@tables.example.com", password: STRONG_PASSWORD });
      expect(await h.call(token).tenant.get({ id: created.slug })).toMatchObject({ id: created.id, name });
      expect(await sql("select name from tenants where id = ?", [created.id])).toEqual([{ name }]);
    });

    it("stores unicode names verbatim and derives an ASCII slug from them", async () => {
      const name = "Ünïcødé 株式会社";
      const created = await h.call().tenant.create({
        name,
        adminEmail: "owner@unicode.example.com",
        adminPassword: STRONG_PASSWORD,
      });
      expect(created.name).toBe(name);
      expect(created.slug).toMatch(SLUG);
      expect(created.slug.startsWith("unic")).toBe(true);
      const { token } = await h.call().auth.login({ email: "owner@unicode.example.com", password: STRONG_PASSWORD });
      expect(await h.call(token).tenant.get({ id: created.slug })).toMatchObject({ id: created.id, name });
      expect(await sql("select name from tenants where id = ?", [created.id])).toEqual([{ name }]);

      // A name with nothing transliterable still gets a valid, non-empty slug.
      const cjk = await h.call().tenant.create({
        name: "株式会社",
        adminEmail: "owner@cjk.example.com",
        adminPassword: STRONG_PASSWORD,
      });
      expect(cjk.name).toBe("株式会社");
      expect(cjk.slug).toMatch(SLUG);
    });
  });

  describe("emails", () => {
    it("trims and lower-cases emails on sign-up, invite, accept and login", async () => {
      const domain = `${unique("mixed")}.example.com`;
      const created = await h.call().tenant.create({
        name: unique("MixedCase"),
        adminEmail: `  Owner.Mixed@${domain.toUpperCase()}  `,
        adminPassword: STRONG_PASSWORD,
      });
      const login = await h.call().auth.login({ email: `owner.mixed@${domain}`, password: STRONG_PASSWORD });
      expect(login.user).toMatchObject({ id: created.adminUserId, email: `owner.mixed@${domain}` });
      const admin = h.call(login.token);

      const invitation = await admin.invite.create({ email: `  New.Person@${domain.toUpperCase()} `, role: null });
      expect(invitation.email).toBe(`new.person@${domain}`);
      const user = await h.call().invite.accept({ token: invitation.token, password: STRONG_PASSWORD });
      expect(user.email).toBe(`new.person@${domain}`);
      const again = await h
        .call()
        .auth.login({ email: ` NEW.PERSON@${domain.toUpperCase()}`, password: STRONG_PASSWORD });
      expect(again.user.id).toBe(user.id);
      expect(await sql("select email from users where id = ?", [user.id])).toEqual([{ email: `new.person@${domain}` }]);
    });
  });
});
