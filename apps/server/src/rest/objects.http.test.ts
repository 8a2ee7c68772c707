import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addMemberRest,
  ISO_UTC,
  type Json,
  KEYS,
  PASSWORD,
  RestClient,
  type RestTenant,
  signUpRest,
  statusOf,
  superuserRest,
  UUID_RE,
} from "../test-support/rest.js";
import { startTestServer, type TestServer } from "../test-support/server.js";

const ROLES = ["ADMIN", "ANALYST", "VIEWER"];

function expectUuid(value: unknown, what: string) {
  expect(value, what).toEqual(expect.any(String));
  expect(value, what).toMatch(UUID_RE);
}

function expectTimestamp(value: unknown, what: string) {
  expect(value, what).toEqual(expect.any(String));
  expect(value, what).toMatch(ISO_UTC);
  expect(new Date(value as string).toISOString(), what).toBe(value);
}

function expectTenant(tenant: Json, created = false) {
  expect(Object.keys(tenant).sort()).toEqual(created ? KEYS.createdTenant : KEYS.tenant);
  expectUuid(tenant.id, "tenant.id");
  expect(tenant.name).toEqual(expect.any(String));
  expect(tenant.slug).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  expectTimestamp(tenant.created_at, "tenant.created_at");
  if (created) expectUuid(tenant.admin_user_id, "tenant.admin_user_id");
}

function expectUser(user: Json) {
  expect(Object.keys(user).sort()).toEqual(KEYS.user);
  expectUuid(user.id, "user.id");
  expect(user.email).toEqual(expect.any(String));
  expect(user.first_name).toEqual(expect.any(String));
  expect(user.last_name).toEqual(expect.any(String));
  if (user.tenant !== null) expectUuid(user.tenant, "user.tenant");
  expect(Array.isArray(user.roles)).toBe(true);
  for (const role of user.roles) expect(ROLES).toContain(role);
  expect(typeof user.is_superuser).toBe("boolean");
  expect(user.tenant === null).toBe(user.is_superuser);
  expectTimestamp(user.date_joined, "user.date_joined");
}

function expectInvitation(invitation: Json, created = false) {
  expect(Object.keys(invitation).sort()).toEqual(created ? KEYS.createdInvitation : KEYS.invitation);
  expectUuid(invitation.id, "invitation.id");
  expectUuid(invitation.tenant, "invitation.tenant");
  expect(invitation.email).toEqual(expect.any(String));
  if (invitation.role !== null) expect(ROLES).toContain(invitation.role);
  expect(["pending", "accepted", "expired", "revoked"]).toContain(invitation.status);
  if (invitation.invited_by !== null) expectUuid(invitation.invited_by, "invitation.invited_by");
  expectTimestamp(invitation.created_at, "invitation.created_at");
  expectTimestamp(invitation.expires_at, "invitation.expires_at");
  if (invitation.status === "accepted") expectTimestamp(invitation.accepted_at, "invitation.accepted_at");
  else expect(invitation.accepted_at).toBeNull();
  expect(["pending", "sent", "failed"]).toContain(invitation.email_delivery);
  if (created) {
    expect(invitation.token).toEqual(expect.any(String));
    expect(invitation.token.length).toBeGreaterThanOrEqual(20);
  }
}

function expectRoleAssignment(assignment: Json) {
  expect(Object.keys(assignment).sort()).toEqual(KEYS.roleAssignment);
  expectUuid(assignment.id, "assignment.id");
  expectUuid(assignment.user, "assignment.user");
  expect(ROLES).toContain(assignment.role);
  expectUuid(assignment.tenant, "assignment.tenant");
  if (assignment.granted_by !== null) expectUuid(assignment.granted_by, "assignment.granted_by");
  expectTimestamp(assignment.created_at, "assignment.created_at");
}

/** Every object of API.md "Objects", key by key, from every endpoint that answers it. */
describe("REST object shapes", () => {
  let server: TestServer;
  let api: RestClient;
  let acme: RestTenant;
  let analyst: { user: Json; token: string; invitation: Json };
  beforeAll(async () => {
    server = await startTestServer({ env: { THROTTLE: "off" } });
    api = new RestClient(server.url);
    acme = await signUpRest(api);
    analyst = await addMemberRest(api, acme.adminToken, "analyst@objects.example.com", "ANALYST");
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("tenant: {id, name, slug, created_at} (+ admin_user_id on create) everywhere", async () => {
    const created = await api.post("/api/tenants/", {
      name: "Shape Co",
      admin_email: "owner@shape.example.com",
      admin_password: PASSWORD,
    });
    expect(created.status, statusOf(created)).toBe(201);
    expectTenant(created.body, true);

    expectTenant(acme.tenant, true);
    const list = await api.get("/api/tenants/", { token: acme.adminToken });
    expect(list.body).toHaveLength(1);
    expectTenant(list.body[0]);
    const one = await api.get(`/api/tenants/${acme.tenant.id}/`, { token: analyst.token });
    expectTenant(one.body);
    const page = await api.get("/api/tenants/?limit=10", { token: acme.adminToken });
    expect(Object.keys(page.body).sort()).toEqual(["count", "next", "previous", "results"]);
    expectTenant(page.body.results[0]);
  });

  it("user: {id, email, first_name, last_name, tenant, roles, is_superuser, date_joined} everywhere", async () => {
    const login = await api.post("/api/auth/login/", { email: acme.adminEmail, password: PASSWORD });
    expect(Object.keys(login.body).sort()).toEqual(KEYS.login);
    expect(login.body.token).toEqual(expect.any(String));
    expectTimestamp(login.body.expires_at, "login.expires_at");
    expectUser(login.body.user);
    expect(login.body.user).toMatchObject({ tenant: acme.tenant.id, roles: ["ADMIN"], is_superuser: false });

    expectUser(analyst.user);
    expect(analyst.user).toMatchObject({ tenant: acme.tenant.id, roles: ["ANALYST"], is_superuser: false });
    const me = await api.get("/api/users/me/", { token: analyst.token });
    expectUser(me.body);
    const users = await api.get("/api/users/", { token: analyst.token });
    expect(users.body).toHaveLength(2);
    for (const user of users.body) expectUser(user);
    const page = await api.get("/api/users/?limit=1", { token: analyst.token });
    expectUser(page.body.results[0]);

    const staff = await superuserRest(server, api);
    const staffMe = await api.get("/api/users/me/", { token: staff.token });
    expectUser(staffMe.body);
    expect(staffMe.body).toMatchObject({ tenant: null, roles: [], is_superuser: true });
  });

  it("invitation: its ten keys, `token` only in the create response", async () => {
    const created = await api.post(
      "/api/users/invite/",
      { email: "shape@objects.example.com", role: "VIEWER" },
      { token: acme.adminToken },
    );
    expect(created.status, statusOf(created)).toBe(201);
    expectInvitation(created.body, true);
    expect(created.body).toMatchObject({ tenant: acme.tenant.id, invited_by: acme.adminId, role: "VIEWER" });

    const noRole = await api.post(
      "/api/users/invite/",
      { email: "norole@objects.example.com" },
      { token: acme.adminToken },
    );
    expectInvitation(noRole.body, true);
    expect(noRole.body.role).toBeNull();

    const list = await api.get("/api/users/invitations/", { token: acme.adminToken });
    expect(list.body.length).toBe(3);
    for (const invitation of list.body) expectInvitation(invitation);
    const accepted = list.body.find((i: Json) => i.id === analyst.invitation.id);
    expect(accepted).toMatchObject({ status: "accepted" });
    expectTimestamp(accepted.accepted_at, "accepted_at");

    const extended = await api.post(
      `/api/users/invitations/${created.body.id}/extend/`,
      {},
      { token: acme.adminToken },
    );
    expect(extended.status, statusOf(extended)).toBe(200);
    expectInvitation(extended.body);

    const page = await api.get("/api/users/invitations/?limit=2", { token: acme.adminToken });
    expect(page.body.results).toHaveLength(2);
    for (const invitation of page.body.results) expectInvitation(invitation);
    expect(page.text).not.toContain(created.body.token);
  });

  it("role assignment: {id, user, role, tenant, granted_by, created_at} everywhere", async () => {
    const list = await api.get("/api/user-roles/", { token: analyst.token });
    expect(list.body).toHaveLength(2);
    for (const assignment of list.body) expectRoleAssignment(assignment);
    // The sign-up ADMIN was granted by nobody.
    expect(list.body.find((a: Json) => a.role === "ADMIN")).toMatchObject({ user: acme.adminId, granted_by: null });

    const granted = await api.post(
      "/api/user-roles/",
      { user: analyst.user.id, role: "VIEWER" },
      { token: acme.adminToken },
    );
    expect(granted.status, statusOf(granted)).toBe(201);
    expectRoleAssignment(granted.body);
    expect(granted.body).toMatchObject({ granted_by: acme.adminId, tenant: acme.tenant.id, user: analyst.user.id });

    const page = await api.get("/api/user-roles/?limit=5", { token: analyst.token });
    for (const assignment of page.body.results) expectRoleAssignment(assignment);
  });

  it("answers JSON with charset and snake_case keys only, all the way down", async () => {
    const login = await api.post("/api/auth/login/", { email: acme.adminEmail, password: PASSWORD });
    expect(login.headers.get("content-type")).toMatch(/^application\/json/);
    const keys: string[] = [];
    const walk = (value: unknown) => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value && typeof value === "object") {
        for (const [key, inner] of Object.entries(value)) {
          keys.push(key);
          walk(inner);
        }
      }
    };
    walk(login.body);
    for (const key of keys) expect(key).toMatch(/^[a-z]+(_[a-z]+)*$/);
  });
});
