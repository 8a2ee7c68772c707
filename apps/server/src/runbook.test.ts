import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, STRONG_PASSWORD, signUp } from "./test-support/harness.js";

describe("the runbook, end to end through the tRPC procedures", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("creates a tenant, invites an analyst who accepts, and manages roles", async () => {
    // 1. Create a tenant: the admin user holds ADMIN.
    const created = await h.call().tenant.create({
      name: "Acme",
      adminEmail: " Owner@Acme.com ",
      adminPassword: STRONG_PASSWORD,
    });
    expect(created).toMatchObject({ name: "Acme", slug: "acme" });
    const login = await h.call().auth.login({ email: "owner@acme.com", password: STRONG_PASSWORD });
    expect(login.user).toMatchObject({ id: created.adminUserId, email: "owner@acme.com", roles: ["ADMIN"] });
    const admin = h.call(login.token);

    // 2. Invite an analyst: the token is returned once and the email hook runs after commit.
    const invitation = await admin.invite.create({ email: "analyst@acme.com", role: "ANALYST" });
    expect(invitation).toMatchObject({ status: "pending", role: "ANALYST", emailDelivery: "pending" });
    expect(new Date(invitation.expiresAt).getTime() - new Date(invitation.createdAt).getTime()).toBe(7 * 86_400_000);
    await h.deliverEmails();
    expect(h.emails.at(-1)).toMatchObject({ to: "analyst@acme.com", role: "ANALYST", tenant: { slug: "acme" } });
    expect(h.emails.at(-1)?.acceptUrl).toContain(encodeURIComponent(invitation.token));

    // 3. Accept: the user exists in the tenant with the role; the token is spent.
    const analyst = await h.call().invite.accept({
      token: invitation.token,
      password: STRONG_PASSWORD,
      firstName: "Analyst",
    });
    expect(analyst).toMatchObject({ email: "analyst@acme.com", firstName: "Analyst", roles: ["ANALYST"] });
    expect(analyst.tenantId).toBe(created.id);
    await expect(h.call().invite.accept({ token: invitation.token, password: STRONG_PASSWORD })).rejects.toThrow(
      "already been accepted",
    );

    // 4. Manage RBAC: list, grant, revoke.
    const { token: analystToken } = await h.call().auth.login({ email: "analyst@acme.com", password: STRONG_PASSWORD });
    const assignments = await h.call(analystToken).role.list();
    expect(assignments.map((a) => a.role).sort()).toEqual(["ADMIN", "ANALYST"]);
    const grant = await admin.role.grant({ userId: analyst.id, role: "VIEWER" });
    expect(grant).toMatchObject({ userId: analyst.id, role: "VIEWER", grantedById: created.adminUserId });
    await admin.role.revoke({ id: grant.id });
    expect((await admin.role.list({ userId: analyst.id })).map((a) => a.role)).toEqual(["ANALYST"]);
  });

  it("lets the helper sign up more tenants", async () => {
    const { tenant, admin } = await signUp(h);
    expect((await admin.tenant.list()).map((t) => t.id)).toEqual([tenant.id]);
  });
});
