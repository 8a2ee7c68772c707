import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addMemberRest,
  DETAIL,
  KEYS,
  PASSWORD,
  RestClient,
  signUpRest,
  statusOf,
  uniqueName,
} from "../test-support/rest.js";
import { startTestServer, type TestServer } from "../test-support/server.js";

/** The second release's endpoints over HTTP, as API.md writes them. */
describe("REST: member lifecycle, passwords, sessions, invitation landing, bulk invites", () => {
  let server: TestServer;
  let api: RestClient;

  beforeAll(async () => {
    server = await startTestServer({ env: { THROTTLE: "off" } });
    api = new RestClient(server.url);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("deactivate: 200 with is_active false; the member's token answers 401 Invalid token on the next request; login fails as a wrong password", async () => {
    const admin = await signUpRest(api);
    const email = `${uniqueName("member")}@example.com`;
    const member = await addMemberRest(api, admin.adminToken, email, "VIEWER");
    const off = await api.post(`/api/users/${member.user.id}/deactivate/`, undefined, { token: admin.adminToken });
    expect(off.status, statusOf(off)).toBe(200);
    expect(Object.keys(off.body).sort()).toEqual(KEYS.user);
    expect(off.body).toMatchObject({ id: member.user.id, is_active: false, roles: ["VIEWER"] });
    const next = await api.get("/api/users/me/", { token: member.token });
    expect([next.status, next.body]).toEqual([401, DETAIL.invalidToken]);
    const login = await api.post("/api/auth/login/", { email, password: PASSWORD });
    expect([login.status, login.body]).toEqual([400, DETAIL.loginFailed]);
    const inactive = await api.get("/api/users/?is_active=false", { token: admin.adminToken });
    expect(inactive.body.map((u: { id: string }) => u.id)).toEqual([member.user.id]);
    const on = await api.post(`/api/users/${member.user.id}/activate/`, undefined, { token: admin.adminToken });
    expect([on.status, on.body.is_active]).toEqual([200, true]);
    const gone = await api.delete(`/api/users/${member.user.id}/`, { token: admin.adminToken });
    expect(gone.status, statusOf(gone)).toBe(204);
    const again = await api.delete(`/api/users/${member.user.id}/`, { token: admin.adminToken });
    expect([again.status, again.body]).toEqual([404, DETAIL.notFound]);
    const last = await api.post(`/api/users/${admin.adminId}/deactivate/`, undefined, { token: admin.adminToken });
    expect(last.status).toBe(400);
    expect(Object.keys(last.body)).toEqual(["detail"]);
  });

  it("PATCH /api/users/me/ changes the caller's names", async () => {
    const admin = await signUpRest(api);
    const reply = await api.call("PATCH", "/api/users/me/", {
      json: { first_name: "Ada", last_name: "Lovelace", email: "ignored@example.com" },
      token: admin.adminToken,
    });
    expect(reply.status, statusOf(reply)).toBe(200);
    expect(reply.body).toMatchObject({ first_name: "Ada", last_name: "Lovelace", email: admin.adminEmail });
  });

  it("password change 204 keeps this session; sessions list, end one, end others", async () => {
    const admin = await signUpRest(api);
    const other = await api.post("/api/auth/login/", { email: admin.adminEmail, password: PASSWORD });
    const third = await api.post("/api/auth/login/", { email: admin.adminEmail, password: PASSWORD });
    const list = await api.get("/api/auth/sessions/", {
      token: admin.adminToken,
      headers: { "user-agent": "Probe/1" },
    });
    expect(list.status).toBe(200);
    expect(list.body).toHaveLength(3);
    expect(Object.keys(list.body[0]).sort()).toEqual(["created_at", "current", "expires_at", "id", "ip", "user_agent"]);
    expect(list.body.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
    const thirdId = String(third.body.token).split(".")[0];
    const endOne = await api.delete(`/api/auth/sessions/${thirdId}/`, { token: admin.adminToken });
    expect(endOne.status, statusOf(endOne)).toBe(204);
    expect((await api.get("/api/users/me/", { token: third.body.token })).status).toBe(401);
    const wrong = await api.post(
      "/api/auth/password/change/",
      { current_password: "nope-Nope-123", new_password: "brand-New-pass-77" },
      { token: admin.adminToken },
    );
    expect(wrong.status).toBe(400);
    expect(Object.keys(wrong.body)).toEqual(["current_password"]);
    const changed = await api.post(
      "/api/auth/password/change/",
      { current_password: PASSWORD, new_password: "brand-New-pass-77" },
      { token: admin.adminToken },
    );
    expect(changed.status, statusOf(changed)).toBe(204);
    expect((await api.get("/api/users/me/", { token: admin.adminToken })).status).toBe(200);
    expect((await api.get("/api/users/me/", { token: other.body.token })).status).toBe(401);
    const fresh = await api.post("/api/auth/login/", { email: admin.adminEmail, password: "brand-New-pass-77" });
    const endOthers = await api.delete("/api/auth/sessions/", { token: admin.adminToken });
    expect(endOthers.status).toBe(204);
    expect((await api.get("/api/users/me/", { token: fresh.body.token })).status).toBe(401);
  });

  it("preview and bulk invite", async () => {
    const admin = await signUpRest(api);
    const bulk = await api.post(
      "/api/users/invite/bulk/",
      { invitations: [{ email: "One@Example.com", role: "VIEWER" }, { email: "broken" }] },
      { token: admin.adminToken },
    );
    expect(bulk.status, statusOf(bulk)).toBe(200);
    expect(bulk.body).toMatchObject({ created: 1, failed: 1 });
    expect(Object.keys(bulk.body.results[0].invitation).sort()).toEqual(KEYS.createdInvitation);
    expect(bulk.body.results[1]).toEqual({ email: "broken", errors: { email: ["Enter a valid email address."] } });
    const preview = await api.post("/api/users/invitations/preview/", { token: bulk.body.results[0].invitation.token });
    expect(preview.status).toBe(200);
    expect(preview.body).toEqual({
      status: "pending",
      email: "one@example.com",
      role: "VIEWER",
      tenant: { name: admin.tenant.name, slug: admin.tenant.slug },
      invited_by_name: admin.adminEmail,
      expires_at: bulk.body.results[0].invitation.expires_at,
    });
    const unknown = await api.post("/api/users/invitations/preview/", { token: "unknown" });
    expect([unknown.status, unknown.body]).toEqual([404, DETAIL.notFound]);
    const empty = await api.post("/api/users/invite/bulk/", { invitations: [] }, { token: admin.adminToken });
    expect([empty.status, empty.body]).toEqual([400, { invitations: ["This list may not be empty."] }]);
  });
});
