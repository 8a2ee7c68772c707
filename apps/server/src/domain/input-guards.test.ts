import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failure, fieldErrorsOf } from "../test-support/errors.js";
import { type Caller, createHarness, type Harness, STRONG_PASSWORD, signUp, unique } from "../test-support/harness.js";
import { DAY_MS } from "./clock.js";
import { guardQueries, NOT_A_STRING, NOT_A_UUID, NOT_AN_INTEGER, NOT_NULL } from "./test-support/guards.js";

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

  describe("input handling", () => {
    it("ignores unknown fields on accept: the new user is not a superuser and stays in the inviting tenant", async () => {
      const { admin, tenant } = await signUp(h);
      const other = await signUp(h);
      const invitation = await admin.invite.create({ email: "sneaky@guards.example.com", role: "VIEWER" });
      const user = await h.call().invite.accept({
        token: invitation.token,
        password: STRONG_PASSWORD,
        isSuperuser: true,
        is_superuser: true,
        tenantId: other.tenant.id,
        roles: ["ADMIN"],
      } as never);
      expect(user).toMatchObject({ isSuperuser: false, tenantId: tenant.id, roles: ["VIEWER"] });
      expect(await sql("select is_superuser, tenant_id from users where id = ?", [user.id])).toEqual([
        { is_superuser: false, tenant_id: tenant.id },
      ]);
      const login = await h.call().auth.login({ email: "sneaky@guards.example.com", password: STRONG_PASSWORD });
      expect(login.user).toMatchObject({ isSuperuser: false, roles: ["VIEWER"] });
    });

    it("ignores unknown fields on tenant create (no chosen id or slug)", async () => {
      const name = unique("Ignored Fields");
      const chosenId = randomUUID();
      const created = await h.call().tenant.create({
        name,
        adminEmail: "ignored@guards.example.com",
        adminPassword: STRONG_PASSWORD,
        id: chosenId,
        slug: "chosen-slug",
        isSuperuser: true,
      } as never);
      expect(created.id).not.toBe(chosenId);
      expect(created.slug).toBe(name.toLowerCase().replace(/\s+/g, "-"));
      const login = await h.call().auth.login({
        email: "ignored@guards.example.com",
        password: STRONG_PASSWORD,
        tenant: created.id,
      });
      expect(login.user.isSuperuser).toBe(false);
    });

    it("takes a numeric string for days, as DRF does", async () => {
      const { admin } = await signUp(h);
      const invitation = await admin.invite.create({ email: "numeric-days@guards.example.com", role: null });
      const extended = await admin.invite.extend({ id: invitation.id, days: "10" as never });
      expect(new Date(extended.expiresAt).getTime()).toBe(h.clock.now().getTime() + 10 * DAY_MS);
    });

    type WrongType = {
      input: string;
      field: string;
      message: string;
      call: (ctx: { admin: Caller; anyone: Caller }) => Promise<unknown>;
    };
    const tenantInput = { name: "Typed", adminEmail: "typed@guards.example.com", adminPassword: STRONG_PASSWORD };
    const wrongTypes: WrongType[] = [
      {
        input: "tenant.create name: 123",
        field: "name",
        message: NOT_A_STRING,
        call: ({ anyone }) => anyone.tenant.create({ ...tenantInput, name: 123 } as never),
      },
      {
        input: "tenant.create name: null",
        field: "name",
        message: NOT_NULL,
        call: ({ anyone }) => anyone.tenant.create({ ...tenantInput, name: null } as never),
      },
      {
        input: 'tenant.create name: ["Acme"]',
        field: "name",
        message: NOT_A_STRING,
        call: ({ anyone }) => anyone.tenant.create({ ...tenantInput, name: ["Acme"] } as never),
      },
      {
        input: "tenant.create adminEmail: 42",
        field: "adminEmail",
        message: NOT_A_STRING,
        call: ({ anyone }) => anyone.tenant.create({ ...tenantInput, adminEmail: 42 } as never),
      },
      {
        input: "tenant.create adminPassword: 83920174651",
        field: "adminPassword",
        message: NOT_A_STRING,
        call: ({ anyone }) => anyone.tenant.create({ ...tenantInput, adminPassword: 83920174651 } as never),
      },
      {
        input: "auth.login email: 5",
        field: "email",
        message: NOT_A_STRING,
        call: ({ anyone }) => anyone.auth.login({ email: 5, password: STRONG_PASSWORD } as never),
      },
      {
        input: "auth.login password: {}",
        field: "password",
        message: NOT_A_STRING,
        call: ({ anyone }) => anyone.auth.login({ email: "x@example.com", password: {} } as never),
      },
      {
        input: "invite.create email: 7",
        field: "email",
        message: NOT_A_STRING,
        call: ({ admin }) => admin.invite.create({ email: 7 } as never),
      },
      {
        input: "invite.accept token: 99",
        field: "token",
        message: NOT_A_STRING,
        call: ({ anyone }) => anyone.invite.accept({ token: 99, password: STRONG_PASSWORD } as never),
      },
      {
        input: "invite.extend id: 5",
        field: "id",
        message: NOT_A_UUID,
        call: ({ admin }) => admin.invite.extend({ id: 5 } as never),
      },
      {
        input: 'invite.extend days: "abc"',
        field: "days",
        message: NOT_AN_INTEGER,
        call: ({ admin }) => admin.invite.extend({ id: randomUUID(), days: "abc" } as never),
      },
      {
        input: "invite.extend days: true",
        field: "days",
        message: NOT_AN_INTEGER,
        call: ({ admin }) => admin.invite.extend({ id: randomUUID(), days: true } as never),
      },
      {
        input: "role.grant userId: 5",
        field: "userId",
        message: NOT_A_UUID,
        call: ({ admin }) => admin.role.grant({ userId: 5, role: "VIEWER" } as never),
      },
    ];

    it.each(wrongTypes)("answers $input with BAD_REQUEST naming $field", async ({ field, message, call }) => {
      const { admin } = await signUp(h);
      const error = await failure(call({ admin, anyone: h.call() }));
      expect(error.code).toBe("BAD_REQUEST");
      expect(fieldErrorsOf(error)[field]).toEqual([message]);
    });
  });
});
