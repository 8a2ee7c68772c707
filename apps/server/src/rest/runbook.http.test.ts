import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../domain/clock.js";
import {
  addMemberRest,
  DETAIL,
  ISO_UTC,
  KEYS,
  PASSWORD,
  type Reply,
  RestClient,
  sessionCookie,
  signUpRest,
  statusOf,
  UUID_RE,
  writeTranscript,
} from "../test-support/rest.js";
import { startTestServer, type TestServer } from "../test-support/server.js";
import { THROTTLE_RULES } from "../throttle.js";

const DAY_MS = 86_400_000;
const TRANSCRIPT = "/tmp/rest-transcript.txt";

const sections: { title: string; replies: Reply[] }[] = [];

/** The runbook's happy path exactly as an existing REST caller sends it: snake_case JSON over HTTP. */
describe("the runbook over REST", () => {
  let server: TestServer;
  let api: RestClient;
  beforeAll(async () => {
    server = await startTestServer({ env: { THROTTLE: "off" } });
    api = new RestClient(server.url);
  });
  afterAll(async () => {
    await server?.stop();
    if (sections.length) writeTranscript(TRANSCRIPT, sections);
  });

  it("walks the runbook: tenant, login, invite, accept, roles, reads, invitations, logout", async () => {
    const walk = new RestClient(server.url);

    // 1. Create a tenant.
    const created = await walk.post("/api/tenants/", {
      name: "Acme",
      admin_email: "owner@acme.com",
      admin_password: PASSWORD,
    });
    expect(created.status, statusOf(created)).toBe(201);
    expect(Object.keys(created.body).sort()).toEqual(KEYS.createdTenant);
    expect(created.body).toMatchObject({ name: "Acme", slug: "acme" });
    expect(created.body.id).toMatch(UUID_RE);
    expect(created.body.admin_user_id).toMatch(UUID_RE);
    const tenantId: string = created.body.id;

    // Log in: token, expiry, user, and the session cookie.
    const login = await walk.post("/api/auth/login/", { email: "owner@acme.com", password: PASSWORD });
    expect(login.status, statusOf(login)).toBe(200);
    expect(Object.keys(login.body).sort()).toEqual(KEYS.login);
    expect(login.body.token).toEqual(expect.any(String));
    expect(login.body.expires_at).toMatch(ISO_UTC);
    expect(login.body.user).toMatchObject({
      id: created.body.admin_user_id,
      email: "owner@acme.com",
      tenant: tenantId,
      roles: ["ADMIN"],
      is_superuser: false,
    });
    const cookie = sessionCookie(login);
    expect(cookie, login.headers.getSetCookie().join(" | ")).toBeDefined();
    expect(cookie?.value).toBe(login.body.token);
    const attributes = (cookie?.attributes ?? []).map((attribute) => attribute.toLowerCase());
    expect(attributes).toContain("httponly");
    expect(attributes).toContain("samesite=lax");
    const adminToken: string = login.body.token;

    // 2. Invite an analyst: the token is returned once, seven days of validity.
    const invited = await walk.post(
      "/api/users/invite/",
      { email: "analyst@acme.com", role: "ANALYST" },
      { token: adminToken },
    );
    expect(invited.status, statusOf(invited)).toBe(201);
    expect(Object.keys(invited.body).sort()).toEqual(KEYS.createdInvitation);
    expect(invited.body).toMatchObject({
      tenant: tenantId,
      email: "analyst@acme.com",
      role: "ANALYST",
      status: "pending",
      invited_by: created.body.admin_user_id,
      accepted_at: null,
    });
    expect(invited.body.token).toEqual(expect.any(String));
    expect(invited.body.token.length).toBeGreaterThan(16);
    expect(Date.parse(invited.body.expires_at) - Date.parse(invited.body.created_at)).toBe(7 * DAY_MS);

    // 3. Accept: the user exists in the tenant with the invited role.
    const accepted = await walk.post("/api/users/accept-invite/", {
      token: invited.body.token,
      password: PASSWORD,
      first_name: "Analyst",
    });
    expect(accepted.status, statusOf(accepted)).toBe(201);
    expect(Object.keys(accepted.body).sort()).toEqual(KEYS.user);
    expect(accepted.body).toMatchObject({
      email: "analyst@acme.com",
      first_name: "Analyst",
      last_name: "",
      tenant: tenantId,
      roles: ["ANALYST"],
      is_superuser: false,
    });
    const analystId: string = accepted.body.id;
    // The token is spent.
    const again = await walk.post("/api/users/accept-invite/", { token: invited.body.token, password: PASSWORD });
    expect(again.status, statusOf(again)).toBe(400);
    expect(Object.keys(again.body)).toEqual(["token"]);

    const analystLogin = await walk.post("/api/auth/login/", { email: "analyst@acme.com", password: PASSWORD });
    expect(analystLogin.status, statusOf(analystLogin)).toBe(200);
    const analystToken: string = analystLogin.body.token;

    // 4. RBAC: any member lists (DRF's `Token` spelling here), the admin grants and revokes.
    const listed = await walk.get("/api/user-roles/", { token: analystToken, scheme: "Token" });
    expect(listed.status, statusOf(listed)).toBe(200);
    expect(Array.isArray(listed.body)).toBe(true);
    expect(listed.body.map((a: { role: string }) => a.role).sort()).toEqual(["ADMIN", "ANALYST"]);
    expect(listed.body.map((a: { tenant: string }) => a.tenant)).toEqual([tenantId, tenantId]);

    const granted = await walk.post("/api/user-roles/", { user: analystId, role: "VIEWER" }, { token: adminToken });
    expect(granted.status, statusOf(granted)).toBe(201);
    expect(Object.keys(granted.body).sort()).toEqual(KEYS.roleAssignment);
    expect(granted.body).toMatchObject({
      user: analystId,
      role: "VIEWER",
      tenant: tenantId,
      granted_by: created.body.admin_user_id,
    });

    const revoked = await walk.delete(`/api/user-roles/${granted.body.id}/`, { token: adminToken });
    expect(revoked.status, statusOf(revoked)).toBe(204);
    expect(revoked.text).toBe("");
    const afterRevoke = await walk.get(`/api/user-roles/?user=${analystId}`, { token: adminToken });
    expect(afterRevoke.body.map((a: { role: string }) => a.role)).toEqual(["ANALYST"]);

    // Reads.
    const me = await walk.get("/api/users/me/", { token: analystToken });
    expect(me.status, statusOf(me)).toBe(200);
    expect(me.body).toEqual(accepted.body);

    const users = await walk.get("/api/users/", { token: adminToken });
    expect(users.status, statusOf(users)).toBe(200);
    expect(users.body.map((u: { email: string }) => u.email).sort()).toEqual(["analyst@acme.com", "owner@acme.com"]);

    const tenants = await walk.get("/api/tenants/", { token: analystToken });
    expect(tenants.status, statusOf(tenants)).toBe(200);
    const { admin_user_id: _admin, ...tenant } = created.body;
    expect(tenants.body).toEqual([tenant]);

    const one = await walk.get(`/api/tenants/${tenantId}/`, { token: adminToken });
    expect(one.status, statusOf(one)).toBe(200);
    expect(one.body).toEqual(tenant);
    const bySlug = await walk.get("/api/tenants/acme/", { token: adminToken });
    expect(bySlug.status, statusOf(bySlug)).toBe(200);
    expect(bySlug.body).toEqual(tenant);

    // Invitations: listed without tokens, extended, revoked.
    const second = await walk.post("/api/users/invite/", { email: "viewer@acme.com" }, { token: adminToken });
    expect(second.status, statusOf(second)).toBe(201);
    expect(second.body.role).toBeNull();

    const invitations = await walk.get("/api/users/invitations/", { token: adminToken });
    expect(invitations.status, statusOf(invitations)).toBe(200);
    expect(invitations.body).toHaveLength(2);
    for (const invitation of invitations.body) {
      expect(Object.keys(invitation).sort()).toEqual(KEYS.invitation);
      expect(invitation).not.toHaveProperty("token");
    }
    expect(invitations.text).not.toContain(second.body.token);
    expect(invitations.text).not.toContain(invited.body.token);
    expect(
      Object.fromEntries(invitations.body.map((i: { email: string; status: string }) => [i.email, i.status])),
    ).toEqual({ "analyst@acme.com": "accepted", "viewer@acme.com": "pending" });

    const before = Date.now();
    const extended = await walk.post(
      `/api/users/invitations/${second.body.id}/extend/`,
      { days: 3 },
      { token: adminToken },
    );
    const after = Date.now();
    expect(extended.status, statusOf(extended)).toBe(200);
    expect(Object.keys(extended.body).sort()).toEqual(KEYS.invitation);
    expect(extended.body).toMatchObject({ id: second.body.id, status: "pending" });
    const expiry = Date.parse(extended.body.expires_at);
    expect(expiry).toBeGreaterThanOrEqual(before + 3 * DAY_MS - 1000);
    expect(expiry).toBeLessThanOrEqual(after + 3 * DAY_MS + 1000);

    const revokedInvitation = await walk.delete(`/api/users/invitations/${second.body.id}/`, { token: adminToken });
    expect(revokedInvitation.status, statusOf(revokedInvitation)).toBe(204);
    expect(revokedInvitation.text).toBe("");
    const dead = await walk.post("/api/users/accept-invite/", { token: second.body.token, password: PASSWORD });
    expect(dead.status, statusOf(dead)).toBe(400);
    expect(Object.keys(dead.body)).toEqual(["token"]);
    const revokedList = await walk.get("/api/users/invitations/?status=revoked", { token: adminToken });
    expect(revokedList.body.map((i: { id: string }) => i.id)).toEqual([second.body.id]);

    // Logout: 204, the token stops working at once; the analyst's session is untouched.
    const logout = await walk.post("/api/auth/logout/", undefined, { token: adminToken });
    expect(logout.status, statusOf(logout)).toBe(204);
    expect(logout.text).toBe("");
    const stale = await walk.get("/api/users/me/", { token: adminToken });
    expect(stale.status, statusOf(stale)).toBe(401);
    expect(stale.body).toEqual(DETAIL.invalidToken);
    expect(stale.headers.get("www-authenticate") ?? "").toMatch(/^Bearer/);
    const stillIn = await walk.get("/api/users/me/", { token: analystToken });
    expect(stillIn.status, statusOf(stillIn)).toBe(200);

    sections.push({ title: "Runbook walk-through", replies: walk.log });
  });

  it("accepts the admin's names as admin_first_name/admin_last_name and as first_name/last_name", async () => {
    const prefixed = await api.post("/api/tenants/", {
      name: "Prefixed Names",
      admin_email: "owner@prefixed.example.com",
      admin_password: PASSWORD,
      admin_first_name: "Ada",
      admin_last_name: "Lovelace",
    });
    expect(prefixed.status, statusOf(prefixed)).toBe(201);
    const aliased = await api.post("/api/tenants/", {
      name: "Aliased Names",
      admin_email: "owner@aliased.example.com",
      admin_password: PASSWORD,
      first_name: "Grace",
      last_name: "Hopper",
    });
    expect(aliased.status, statusOf(aliased)).toBe(201);
    expect(Object.keys(aliased.body).sort()).toEqual(KEYS.createdTenant);

    for (const [email, first, last] of [
      ["owner@prefixed.example.com", "Ada", "Lovelace"],
      ["owner@aliased.example.com", "Grace", "Hopper"],
    ] as const) {
      const login = await api.post("/api/auth/login/", { email, password: PASSWORD });
      expect(login.status, statusOf(login)).toBe(200);
      expect(login.body.user).toMatchObject({ first_name: first, last_name: last, roles: ["ADMIN"] });
      const me = await api.get("/api/users/me/", { token: login.body.token });
      expect(me.body).toMatchObject({ first_name: first, last_name: last });
    }
  });

  it("takes `Authorization: Bearer <t>` and `Authorization: Token <t>` alike, case-insensitively", async () => {
    const { adminToken, adminId } = await signUpRest(api);
    for (const scheme of ["Bearer", "Token", "bearer", "token"]) {
      const me = await api.get("/api/users/me/", { token: adminToken, scheme });
      expect(me.status, `${scheme}: ${statusOf(me)}`).toBe(200);
      expect(me.body.id).toBe(adminId);
    }
    // And for a change, too (no Origin needed without a cookie).
    const invited = await api.post(
      "/api/users/invite/",
      { email: "tok@x.example.com" },
      { token: adminToken, scheme: "Token" },
    );
    expect(invited.status, statusOf(invited)).toBe(201);
    // Logging out through the `Token` spelling ends the session for both spellings.
    const logout = await api.post("/api/auth/logout/", undefined, { token: adminToken, scheme: "Token" });
    expect(logout.status, statusOf(logout)).toBe(204);
    for (const scheme of ["Bearer", "Token"]) {
      const me = await api.get("/api/users/me/", { token: adminToken, scheme });
      expect(me.status).toBe(401);
      expect(me.body).toEqual(DETAIL.invalidToken);
    }
  });

  it("answers each error shape (recorded for the transcript)", async () => {
    const log = new RestClient(server.url);
    const { adminToken, tenant } = await signUpRest(api);
    const other = await signUpRest(api);
    const member = await addMemberRest(api, adminToken, "viewer@shapes.example.com", "VIEWER");

    const expectations: [() => Promise<Reply>, number, unknown][] = [
      // 400 field errors
      [
        () => log.post("/api/users/invite/", { email: "not-an-email" }, { token: adminToken }),
        400,
        { email: expect.any(Array) },
      ],
      // 400 non_field_errors
      [
        () => log.post("/api/users/invite/", ["x"], { token: adminToken }),
        400,
        { non_field_errors: expect.any(Array) },
      ],
      // 400 login failure
      [
        () => log.post("/api/auth/login/", { email: "nobody@nowhere.example.com", password: "wrong-password" }),
        400,
        DETAIL.loginFailed,
      ],
      // 400 detail: the last ADMIN cannot be revoked
      [
        () =>
          log
            .get("/api/user-roles/?role=ADMIN", { token: adminToken })
            .then((listed) => log.delete(`/api/user-roles/${listed.body[0].id}/`, { token: adminToken })),
        400,
        { detail: expect.any(String) },
      ],
      // 400 malformed JSON
      [
        () => log.call("POST", "/api/auth/login/", { raw: '{"email": ' }),
        400,
        { detail: expect.stringMatching(/^JSON parse error - /) },
      ],
      // 401 x2
      [() => log.get("/api/users/me/"), 401, DETAIL.notAuthenticated],
      [() => log.get("/api/users/me/", { token: "not-a-real-token" }), 401, DETAIL.invalidToken],
      // 403
      [
        () => log.post("/api/users/invite/", { email: "x@shapes.example.com" }, { token: member.token }),
        403,
        DETAIL.forbidden,
      ],
      // 403 CSRF
      [
        () => log.post("/api/users/invite/", { email: "y@shapes.example.com" }, { cookie: adminToken }),
        403,
        DETAIL.csrf,
      ],
      // 404: another tenant's object, a non-UUID id, an unknown path
      [() => log.get(`/api/tenants/${other.tenant.id}/`, { token: adminToken }), 404, DETAIL.notFound],
      [() => log.delete("/api/user-roles/not-a-uuid/", { token: adminToken }), 404, DETAIL.notFound],
      [() => log.get("/api/no-such-thing/"), 404, DETAIL.notFound],
      // 405
      [
        () => log.call("PUT", `/api/tenants/${tenant.id}/`, { token: adminToken, json: {} }),
        405,
        { detail: 'Method "PUT" not allowed.' },
      ],
      // 308
      [() => log.get("/api/users/me?x=1"), 308, { detail: expect.any(String) }],
      // 413, 415
      [
        () => log.call("POST", "/api/auth/login/", { raw: `{"email": "${"a".repeat(70_000)}"}` }),
        413,
        { detail: expect.any(String) },
      ],
      [
        () => log.call("POST", "/api/auth/login/", { raw: "email=a", contentType: "text/plain" }),
        415,
        { detail: expect.any(String) },
      ],
    ];
    for (const [send, status, body] of expectations) {
      const reply = await send();
      expect(reply.status, statusOf(reply)).toBe(status);
      expect(reply.body).toEqual(body);
    }

    // 429 and 500 need servers of their own: throttling on (with a clock that stands still), and a clock that breaks.
    const clock = new ManualClock("2026-11-29T10:00:15.000Z");
    let broken = false;
    const special = await startTestServer({
      overrides: {
        clock: {
          now: () => {
            if (broken) throw new Error("select password_hash from users where email = 'x' -- boom");
            return clock.now();
          },
        },
      },
    });
    try {
      const specialLog = new RestClient(special.url);
      const { adminToken: token } = await signUpRest(specialLog);
      specialLog.log.length = 0;
      const { limit } = THROTTLE_RULES.loginPerIp;
      // The sign-up's login counted once already.
      for (let i = 1; i < limit; i++) {
        const failed = await new RestClient(special.url).post("/api/auth/login/", {
          email: `nobody${i}@nowhere.example.com`,
          password: "wrong-password",
        });
        expect(failed.status, statusOf(failed)).toBe(400);
      }
      const throttled = await specialLog.post("/api/auth/login/", { email: "last@nowhere.example.com", password: "x" });
      expect(throttled.status, statusOf(throttled)).toBe(429);
      expect(throttled.body).toEqual({ detail: "Request was throttled. Expected available in 45 seconds." });
      expect(throttled.headers.get("retry-after")).toBe("45");

      broken = true;
      const failed = await specialLog.get("/api/users/me/", { token });
      broken = false;
      expect(failed.status, statusOf(failed)).toBe(500);
      expect(failed.body).toEqual(DETAIL.serverError);
      sections.push({ title: "Error shapes", replies: [...log.log, ...specialLog.log] });
    } finally {
      broken = false;
      await special.stop();
    }
  });
});
