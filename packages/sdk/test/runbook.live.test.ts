import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../../../apps/server/src/test-support/server.js";
import { createTenantryClient, type TenantryClient, TenantryError } from "../src/index.js";

const PASSWORD = "correct horse battery staple";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DAY = 86_400_000;

/** The runbook, start to end, through the SDK against a live server on a fresh PostgreSQL database. */
describe("the runbook through the SDK", () => {
  let server: TestServer;
  let anonymous: TenantryClient;
  beforeAll(async () => {
    server = await startTestServer({ env: { THROTTLE: "off" } });
    anonymous = createTenantryClient({ baseUrl: server.url });
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("create a tenant, log in, invite, accept, manage roles and invitations, log out", async () => {
    // 1. Create a tenant: the admin holds ADMIN.
    const tenant = await anonymous.tenant.create({
      name: "Acme",
      adminEmail: " Owner@Acme.test ",
      adminPassword: PASSWORD,
      adminFirstName: "Olive",
      adminLastName: "Owner",
    });
    expect(tenant).toEqual({
      id: expect.stringMatching(UUID),
      name: "Acme",
      slug: "acme",
      createdAt: expect.any(String),
      adminUserId: expect.stringMatching(UUID),
    });

    const { token, expiresAt, user } = await anonymous.auth.login({
      email: "owner@acme.test",
      password: PASSWORD,
      tenant: "acme",
    });
    expect(token).toEqual(expect.any(String));
    expect(new Date(expiresAt).getTime()).toBeGreaterThan(Date.now() + 29 * DAY);
    expect(user).toEqual({
      id: tenant.adminUserId,
      email: "owner@acme.test",
      firstName: "Olive",
      lastName: "Owner",
      tenantId: tenant.id,
      roles: ["ADMIN"],
      isSuperuser: false,
      isActive: true,
      dateJoined: expect.any(String),
    });
    const admin = createTenantryClient({ baseUrl: server.url, token });
    expect(await admin.user.me()).toEqual(user);
    expect(await admin.auth.me()).toEqual(user);
    expect(await admin.tenant.list()).toEqual([
      { id: tenant.id, name: "Acme", slug: "acme", createdAt: tenant.createdAt },
    ]);
    expect(await admin.tenant.get({ id: "acme" })).toMatchObject({ id: tenant.id });

    // 2. Invite an analyst: the token comes back this once.
    const invitation = await admin.invite.create({ email: "Analyst@Acme.test", role: "ANALYST" });
    expect(invitation).toMatchObject({
      id: expect.stringMatching(UUID),
      tenantId: tenant.id,
      email: "analyst@acme.test",
      role: "ANALYST",
      status: "pending",
      invitedById: tenant.adminUserId,
      acceptedAt: null,
      token: expect.any(String),
    });
    expect(Date.parse(invitation.expiresAt) - Date.parse(invitation.createdAt)).toBe(7 * DAY);
    const pending = await admin.invite.list({ status: "pending" });
    expect(pending.map((i) => i.id)).toEqual([invitation.id]);
    expect(pending[0]).not.toHaveProperty("token");

    // 3. Accept: a user of the tenant with the role.
    const analyst = await anonymous.invite.accept({
      token: invitation.token,
      password: PASSWORD,
      firstName: "Ana",
      lastName: "Lyst",
    });
    expect(analyst).toEqual({
      id: expect.stringMatching(UUID),
      email: "analyst@acme.test",
      firstName: "Ana",
      lastName: "Lyst",
      tenantId: tenant.id,
      roles: ["ANALYST"],
      isSuperuser: false,
      isActive: true,
      dateJoined: expect.any(String),
    });
    expect((await admin.invite.list({ status: "accepted" })).map((i) => i.id)).toEqual([invitation.id]);
    expect((await admin.user.list()).map((u) => u.email).sort()).toEqual(["analyst@acme.test", "owner@acme.test"]);

    // 4. Roles: list, grant, revoke.
    const analystRoles = await admin.role.list({ userId: analyst.id });
    expect(analystRoles).toEqual([
      {
        id: expect.stringMatching(UUID),
        userId: analyst.id,
        role: "ANALYST",
        tenantId: tenant.id,
        grantedById: tenant.adminUserId,
        createdAt: expect.any(String),
      },
    ]);
    const viewer = await admin.role.grant({ userId: analyst.id, role: "VIEWER" });
    expect(viewer).toMatchObject({ userId: analyst.id, role: "VIEWER", tenantId: tenant.id });
    expect((await admin.role.list({ userId: analyst.id })).map((r) => r.role).sort()).toEqual(["ANALYST", "VIEWER"]);
    expect((await admin.role.list({ role: "VIEWER" })).map((r) => r.id)).toEqual([viewer.id]);
    expect(await admin.role.revoke({ id: viewer.id })).toBeUndefined();
    expect((await admin.role.list({ userId: analyst.id })).map((r) => r.role)).toEqual(["ANALYST"]);

    // Any member reads; only ADMINs change.
    const analystLogin = await anonymous.auth.login({ email: "analyst@acme.test", password: PASSWORD });
    const asAnalyst = createTenantryClient({ baseUrl: server.url, token: analystLogin.token });
    expect((await asAnalyst.role.list()).length).toBe(2);
    const forbidden = await asAnalyst.role.grant({ userId: analyst.id, role: "ADMIN" }).catch((e: unknown) => e);
    expect(forbidden).toBeInstanceOf(TenantryError);
    expect(forbidden).toMatchObject({ code: "FORBIDDEN", status: 403 });

    // 5. Invitations: extend, revoke.
    const second = await admin.invite.create({ email: "viewer@acme.test", role: "VIEWER" });
    const before = Date.now();
    const extended = await admin.invite.extend({ id: second.id, days: 3 });
    expect(extended).toMatchObject({ id: second.id, status: "pending" });
    expect(extended).not.toHaveProperty("token");
    const expiry = Date.parse(extended.expiresAt);
    expect(expiry).toBeGreaterThanOrEqual(before + 3 * DAY - 1000);
    expect(expiry).toBeLessThanOrEqual(Date.now() + 3 * DAY + 1000);
    expect(await admin.invite.revoke({ id: second.id })).toBeUndefined();
    expect((await admin.invite.list({ status: "revoked" })).map((i) => i.id)).toEqual([second.id]);
    const spent = await anonymous.invite
      .accept({ token: second.token, password: PASSWORD })
      .catch((e: unknown) => e as TenantryError);
    expect(spent).toMatchObject({ code: "BAD_REQUEST", fieldErrors: { token: [expect.any(String)] } });

    // Pages: a window and the total.
    expect(await admin.user.page({ limit: 1 })).toMatchObject({ count: 2, results: [expect.any(Object)] });
    expect(await admin.invite.page({ limit: 10, offset: 0 })).toMatchObject({ count: 2 });
    expect(await admin.role.page({ limit: 1, role: "ADMIN" })).toMatchObject({ count: 1 });
    expect(await admin.tenant.page({ limit: 5 })).toMatchObject({ count: 1 });

    // 6. Log out: the token stops working at once.
    expect(await admin.auth.logout()).toBeUndefined();
    const after = await admin.user.me().catch((e: unknown) => e);
    expect(after).toBeInstanceOf(TenantryError);
    expect(after).toMatchObject({ code: "UNAUTHORIZED", status: 401, authentication: "invalid" });
    // Other sessions live on.
    expect((await asAnalyst.user.me()).id).toBe(analyst.id);
  });
});
