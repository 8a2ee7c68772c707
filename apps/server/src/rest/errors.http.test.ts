import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAY_MS, ManualClock } from "../domain/clock.js";
import {
  addMemberRest,
  DETAIL,
  PASSWORD,
  RestClient,
  type RestTenant,
  rawHttp,
  signUpRest,
  statusOf,
} from "../test-support/rest.js";
import { startTestServer, type TestServer } from "../test-support/server.js";
import { THROTTLE_RULES } from "../throttle.js";

/** The documented paths and their methods (API.md, "Endpoints"). */
const DOCUMENTED: Record<string, string[]> = {
  "/api/tenants/": ["GET", "POST"],
  "/api/tenants/{id}/": ["GET"],
  "/api/auth/login/": ["POST"],
  "/api/auth/logout/": ["POST"],
  "/api/users/me/": ["GET", "PATCH"],
  "/api/users/": ["GET"],
  "/api/users/invite/": ["POST"],
  "/api/users/invitations/": ["GET"],
  "/api/users/invitations/{id}/": ["DELETE"],
  "/api/users/invitations/{id}/extend/": ["POST"],
  "/api/users/accept-invite/": ["POST"],
  "/api/user-roles/": ["GET", "POST"],
  "/api/user-roles/{id}/": ["DELETE"],
};
const PUBLIC = new Set(["POST /api/tenants/", "POST /api/auth/login/", "POST /api/users/accept-invite/"]);
/** Every authenticated operation, with a body where it takes one. */
const AUTHENTICATED = Object.entries(DOCUMENTED)
  .flatMap(([path, methods]) => methods.map((method) => ({ method, path })))
  .filter(({ method, path }) => !PUBLIC.has(`${method} ${path}`));

const SECURITY_HEADERS = ["x-content-type-options", "x-frame-options", "strict-transport-security", "referrer-policy"];

function expectJsonError(reply: { headers: Headers; status: number; text: string }) {
  expect(reply.headers.get("content-type") ?? "", reply.text).toMatch(/^application\/json/);
}

function expectWwwAuthenticate(reply: { headers: Headers }) {
  expect(reply.headers.get("www-authenticate") ?? "").toMatch(/^Bearer/);
}

describe("REST error shapes", () => {
  let server: TestServer;
  let api: RestClient;
  let acme: RestTenant;
  let other: RestTenant;
  let viewer: { user: { id: string }; token: string };
  beforeAll(async () => {
    server = await startTestServer({ env: { THROTTLE: "off" } });
    api = new RestClient(server.url);
    acme = await signUpRest(api);
    other = await signUpRest(api);
    viewer = await addMemberRest(api, acme.adminToken, "viewer@errors.example.com", "VIEWER");
  });
  afterAll(async () => {
    await server?.stop();
  });

  describe("400", () => {
    it("answers field errors as {field: [messages]} with snake_case names", async () => {
      const missing = await api.post("/api/tenants/", {});
      expect(missing.status, statusOf(missing)).toBe(400);
      expect(Object.keys(missing.body).sort()).toEqual(["admin_email", "admin_password", "name"]);
      for (const messages of Object.values(missing.body)) {
        expect(messages).toEqual(["This field is required."]);
      }

      const taken = await api.post("/api/tenants/", {
        name: acme.tenant.name.toUpperCase(),
        admin_email: "someone@taken.example.com",
        admin_password: PASSWORD,
      });
      expect(taken.status, statusOf(taken)).toBe(400);
      expect(Object.keys(taken.body)).toEqual(["name"]);
      expect(taken.body.name).toEqual([expect.any(String)]);

      const weak = await api.post("/api/tenants/", {
        name: "Weak Password Inc",
        admin_email: "owner@weak.example.com",
        admin_password: "12345678901",
      });
      expect(weak.status, statusOf(weak)).toBe(400);
      expect(Object.keys(weak.body)).toEqual(["admin_password"]);
      expect(weak.body.admin_password.length).toBeGreaterThan(0);
      for (const message of weak.body.admin_password) expect(message).toEqual(expect.any(String));

      const unknownUser = randomUUID();
      const grant = await api.post(
        "/api/user-roles/",
        { user: unknownUser, role: "VIEWER" },
        { token: acme.adminToken },
      );
      expect(grant.status, statusOf(grant)).toBe(400);
      expect(grant.body).toEqual({ user: [`Invalid pk "${unknownUser}" - object does not exist.`] });
      expectJsonError(grant);
    });

    it("answers errors about the request as a whole under non_field_errors", async () => {
      const held = await api.post(
        "/api/user-roles/",
        { user: viewer.user.id, role: "VIEWER" },
        { token: acme.adminToken },
      );
      expect(held.status, statusOf(held)).toBe(400);
      expect(Object.keys(held.body)).toEqual(["non_field_errors"]);
      expect(held.body.non_field_errors).toEqual([expect.any(String)]);
    });

    it("answers a failed login alike for a wrong password and an unknown email", async () => {
      const wrongPassword = await api.post("/api/auth/login/", {
        email: acme.adminEmail,
        password: "wrong-password-1",
      });
      const unknownEmail = await api.post("/api/auth/login/", {
        email: "nobody@unknown.example.com",
        password: "wrong-password-1",
      });
      for (const reply of [wrongPassword, unknownEmail]) {
        expect(reply.status, statusOf(reply)).toBe(400);
        expect(reply.body).toEqual(DETAIL.loginFailed);
        expect(reply.headers.getSetCookie()).toEqual([]);
      }
    });

    it('answers {"detail": ...} for refusing to revoke the last ADMIN, and the assignment stays', async () => {
      const admins = await api.get("/api/user-roles/?role=ADMIN", { token: acme.adminToken });
      expect(admins.body).toHaveLength(1);
      const revoke = await api.delete(`/api/user-roles/${admins.body[0].id}/`, { token: acme.adminToken });
      expect(revoke.status, statusOf(revoke)).toBe(400);
      expect(Object.keys(revoke.body)).toEqual(["detail"]);
      expect(revoke.body.detail).toEqual(expect.any(String));
      const still = await api.get("/api/user-roles/?role=ADMIN", { token: acme.adminToken });
      expect(still.body.map((a: { id: string }) => a.id)).toEqual([admins.body[0].id]);
    });

    it("answers malformed JSON with DRF's parse error", async () => {
      for (const raw of ['{"email": ', "{'single': 'quotes'}", "nul", '{"a":1}}']) {
        const reply = await api.call("POST", "/api/auth/login/", { raw });
        expect(reply.status, statusOf(reply)).toBe(400);
        expect(Object.keys(reply.body)).toEqual(["detail"]);
        expect(reply.body.detail).toMatch(/^JSON parse error - ./);
      }
      const authed = await api.call("POST", "/api/users/invite/", { raw: "{", token: acme.adminToken });
      expect(authed.status, statusOf(authed)).toBe(400);
      expect(authed.body.detail).toMatch(/^JSON parse error - /);
    });
  });

  describe("401", () => {
    it("answers every authenticated endpoint without credentials with DRF's message and WWW-Authenticate", async () => {
      for (const { method, path } of AUTHENTICATED) {
        const url = path.replace("{id}", acme.tenant.id);
        const reply = await api.call(method, url, method === "POST" ? { json: {} } : {});
        expect(reply.status, statusOf(reply)).toBe(401);
        expect(reply.body).toEqual(DETAIL.notAuthenticated);
        expectWwwAuthenticate(reply);
      }
    });

    it("answers a bad token with 'Invalid token.' on every authenticated endpoint, by header or by cookie", async () => {
      for (const { method, path } of AUTHENTICATED) {
        const url = path.replace("{id}", acme.tenant.id);
        for (const credentials of [
          { token: "not-a-real-token" },
          { token: "abcdefghijklmnopqrstuvwx.abcdefghijklmnopqrstuvwx", scheme: "Token" },
          { cookie: "not-a-real-token", origin: server.url },
        ]) {
          const reply = await api.call(method, url, { ...credentials, ...(method === "POST" ? { json: {} } : {}) });
          expect(reply.status, `${JSON.stringify(credentials)} ${statusOf(reply)}`).toBe(401);
          expect(reply.body).toEqual(DETAIL.invalidToken);
          expectWwwAuthenticate(reply);
        }
      }
    });

    it("answers a logged-out token with 'Invalid token.'", async () => {
      const login = await api.post("/api/auth/login/", { email: acme.adminEmail, password: PASSWORD });
      const token: string = login.body.token;
      expect((await api.post("/api/auth/logout/", undefined, { token })).status).toBe(204);
      const reply = await api.get("/api/users/me/", { token });
      expect(reply.status, statusOf(reply)).toBe(401);
      expect(reply.body).toEqual(DETAIL.invalidToken);
      expectWwwAuthenticate(reply);
      const again = await api.post("/api/auth/logout/", undefined, { token });
      expect(again.status, statusOf(again)).toBe(401);
      expect(again.body).toEqual(DETAIL.invalidToken);
    });
  });

  describe("403", () => {
    it("refuses a member without ADMIN on every admin endpoint", async () => {
      const invitation = await api.post(
        "/api/users/invite/",
        { email: "pending@errors.example.com" },
        { token: acme.adminToken },
      );
      const assignments = await api.get("/api/user-roles/", { token: acme.adminToken });
      const calls: [string, string, unknown][] = [
        ["POST", "/api/users/invite/", { email: "new@errors.example.com", role: "VIEWER" }],
        ["GET", "/api/users/invitations/", undefined],
        ["DELETE", `/api/users/invitations/${invitation.body.id}/`, undefined],
        ["POST", `/api/users/invitations/${invitation.body.id}/extend/`, { days: 3 }],
        ["POST", "/api/user-roles/", { user: viewer.user.id, role: "ADMIN" }],
        ["DELETE", `/api/user-roles/${assignments.body[0].id}/`, undefined],
      ];
      for (const [method, path, json] of calls) {
        const reply = await api.call(method, path, { token: viewer.token, json });
        expect(reply.status, statusOf(reply)).toBe(403);
        expect(reply.body).toEqual(DETAIL.forbidden);
      }
      // Nothing happened.
      const me = await api.get("/api/users/me/", { token: viewer.token });
      expect(me.body.roles).toEqual(["VIEWER"]);
      const pending = await api.get("/api/users/invitations/?status=pending", { token: acme.adminToken });
      expect(pending.body.map((i: { email: string }) => i.email)).toEqual(["pending@errors.example.com"]);
    });
  });

  describe("404", () => {
    it("answers another tenant's objects exactly as missing ones", async () => {
      const theirInvitation = await api.post(
        "/api/users/invite/",
        { email: "theirs@errors.example.com" },
        { token: other.adminToken },
      );
      const theirAssignments = await api.get("/api/user-roles/", { token: other.adminToken });
      const calls: [string, string, unknown][] = [
        ["GET", `/api/tenants/${other.tenant.id}/`, undefined],
        ["GET", `/api/tenants/${other.tenant.slug}/`, undefined],
        ["GET", `/api/tenants/${randomUUID()}/`, undefined],
        ["GET", "/api/tenants/no-such-slug/", undefined],
        ["DELETE", `/api/users/invitations/${theirInvitation.body.id}/`, undefined],
        ["DELETE", `/api/users/invitations/${randomUUID()}/`, undefined],
        ["POST", `/api/users/invitations/${theirInvitation.body.id}/extend/`, { days: 3 }],
        ["POST", `/api/users/invitations/${randomUUID()}/extend/`, {}],
        ["DELETE", `/api/user-roles/${theirAssignments.body[0].id}/`, undefined],
        ["DELETE", `/api/user-roles/${randomUUID()}/`, undefined],
      ];
      for (const [method, path, json] of calls) {
        const reply = await api.call(method, path, { token: acme.adminToken, json });
        expect(reply.status, statusOf(reply)).toBe(404);
        expect(reply.body).toEqual(DETAIL.notFound);
        expectJsonError(reply);
      }
      // Their objects are untouched.
      const theirs = await api.get("/api/users/invitations/", { token: other.adminToken });
      expect(theirs.body[0]).toMatchObject({ id: theirInvitation.body.id, status: "pending" });
      expect(theirs.body[0].expires_at).toBe(theirInvitation.body.expires_at);
    });

    it("answers a non-UUID id in a UUID path with 404, never a 500", async () => {
      const ids = ["not-a-uuid", "123", "01a22611-801a-7be1-8b4a-6c914923c9dZ", "%27%20or%201%3D1--", "x".repeat(99)];
      for (const id of ids) {
        for (const [method, path] of [
          ["DELETE", `/api/users/invitations/${id}/`],
          ["POST", `/api/users/invitations/${id}/extend/`],
          ["DELETE", `/api/user-roles/${id}/`],
        ] as const) {
          const reply = await api.call(method, path, {
            token: acme.adminToken,
            json: method === "POST" ? {} : undefined,
          });
          expect(reply.status, statusOf(reply)).toBe(404);
          expect(reply.body).toEqual(DETAIL.notFound);
        }
      }
      // The tenant path takes an id or a slug: anything unknown is simply not found.
      const tenant = await api.get("/api/tenants/%27%20or%201%3D1--/", { token: acme.adminToken });
      expect(tenant.status, statusOf(tenant)).toBe(404);
      expect(tenant.body).toEqual(DETAIL.notFound);
    });

    it("answers an over-long id in a path with the same JSON 404 (not the router's own 414 body)", async () => {
      for (const [method, path] of [
        ["DELETE", `/api/users/invitations/${"x".repeat(300)}/`],
        ["POST", `/api/users/invitations/${"x".repeat(300)}/extend/`],
        ["DELETE", `/api/user-roles/${"x".repeat(300)}/`],
        ["GET", `/api/tenants/${"x".repeat(300)}/`],
      ] as const) {
        const reply = await api.call(method, path, {
          token: acme.adminToken,
          json: method === "POST" ? {} : undefined,
        });
        expect(reply.status, statusOf(reply)).toBe(404);
        expect(reply.body).toEqual(DETAIL.notFound);
      }
    });

    it("answers a path with a malformed %-escape under /api/ in DRF's shape (not the router's own body)", async () => {
      for (const [method, path] of [
        ["GET", "/api/tenants/%E0%A4%A/"],
        ["DELETE", "/api/users/invitations/%zz/"],
        ["GET", "/api/nope%zz/"],
      ] as const) {
        const reply = await api.call(method, path, { token: acme.adminToken });
        expect([400, 404], statusOf(reply)).toContain(reply.status);
        expect(Object.keys(reply.body ?? {}), statusOf(reply)).toEqual(["detail"]);
        expect(reply.text).not.toMatch(/FST_|statusCode/);
      }
    });

    it("answers unknown paths under /api/ with JSON 404", async () => {
      for (const [method, path] of [
        ["GET", "/api/"],
        ["GET", "/api/nope/"],
        ["GET", "/api/nope"],
        ["POST", "/api/nope/"],
        ["DELETE", "/api/users/me/extra/"],
        ["GET", "/api/tenants/a/b/c/"],
        ["GET", "/api/users/invitations/x/y/z/"],
      ] as const) {
        const reply = await api.call(method, path, { token: acme.adminToken });
        expect(reply.status, statusOf(reply)).toBe(404);
        expect(reply.body).toEqual(DETAIL.notFound);
        expectJsonError(reply);
      }
    });
  });

  describe("405", () => {
    it("answers every undocumented method on every documented path with DRF's 405 and an Allow header", async () => {
      for (const [path, allowed] of Object.entries(DOCUMENTED)) {
        const url = path.replace("{id}", randomUUID());
        for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"].filter((m) => !allowed.includes(m))) {
          const reply = await api.call(method, url, {
            token: acme.adminToken,
            json: method === "GET" ? undefined : {},
          });
          expect(reply.status, statusOf(reply)).toBe(405);
          expect(reply.body).toEqual({ detail: `Method "${method}" not allowed.` });
          const allow = (reply.headers.get("allow") ?? "").split(",").map((m) => m.trim());
          for (const ok of allowed) expect(allow, `${method} ${path}`).toContain(ok);
          expect(allow).not.toContain(method);
        }
      }
    });
  });

  describe("413", () => {
    it("refuses a body over 64 KiB with a Content-Length", async () => {
      const reply = await api.call("POST", "/api/tenants/", {
        raw: JSON.stringify({ name: "x".repeat(65 * 1024), admin_email: "a@b.example.com", admin_password: PASSWORD }),
      });
      expect(reply.status, statusOf(reply)).toBe(413);
      expect(Object.keys(reply.body)).toEqual(["detail"]);
      expect(reply.body.detail).toEqual(expect.any(String));
    });

    it("takes a body of exactly 64 KiB (the limit is inclusive)", async () => {
      const base = JSON.stringify({ email: "a@b.example.com", password: "" });
      const raw = JSON.stringify({ email: "a@b.example.com", password: "p".repeat(64 * 1024 - base.length) });
      expect(raw.length).toBe(64 * 1024);
      const reply = await api.call("POST", "/api/auth/login/", { raw });
      expect(reply.status, statusOf(reply)).toBe(400);
    });

    it("refuses a chunked body over 64 KiB sent by fetch as a stream", async () => {
      const chunk = new TextEncoder().encode(`{"name": "${"x".repeat(4096)}`);
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          sent += 1;
          if (sent > 20) controller.close();
          else controller.enqueue(chunk);
        },
      });
      const response = await fetch(`${server.url}/api/tenants/`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        duplex: "half",
      } as RequestInit & { duplex: "half" });
      expect(response.status).toBe(413);
      const json = (await response.json()) as Record<string, unknown>;
      expect(Object.keys(json)).toEqual(["detail"]);
    });

    it("refuses a chunked body over 64 KiB sent with transfer-encoding: chunked", async () => {
      const reply = await rawHttp(server.url, {
        method: "POST",
        path: "/api/auth/login/",
        headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
        chunks: [
          `{"email": "a@b.example.com", "password": "`,
          ...Array.from({ length: 17 }, () => "p".repeat(4096)),
          '"}',
        ],
      });
      expect(reply.status, reply.text).toBe(413);
      expect(JSON.parse(reply.text)).toEqual({ detail: expect.any(String) });
    });
  });

  describe("415", () => {
    it("refuses text/plain, form and multipart bodies", async () => {
      for (const [contentType, raw] of [
        ["text/plain", '{"email": "a@b.example.com", "password": "x"}'],
        ["text/plain;charset=UTF-8", '{"email": "a@b.example.com", "password": "x"}'],
        ["application/x-www-form-urlencoded", "email=a%40b.example.com&password=x"],
        [
          "multipart/form-data; boundary=xyz",
          '--xyz\r\nContent-Disposition: form-data; name="email"\r\n\r\na\r\n--xyz--\r\n',
        ],
      ] as const) {
        const reply = await api.call("POST", "/api/auth/login/", { raw, contentType });
        expect(reply.status, `${contentType}: ${statusOf(reply)}`).toBe(415);
        expect(Object.keys(reply.body)).toEqual(["detail"]);
        expect(reply.body.detail).toBe(`Unsupported media type "${contentType.split(";")[0]}" in request.`);
      }
      // Also for an authenticated change.
      const reply = await api.call("POST", "/api/users/invite/", {
        raw: "email=a%40b.example.com",
        contentType: "application/x-www-form-urlencoded",
        token: acme.adminToken,
      });
      expect(reply.status, statusOf(reply)).toBe(415);
    });
  });

  describe("trailing slash", () => {
    it("redirects the bare path with 308 to the slashed one, query kept, for GET and POST", async () => {
      for (const [method, bare] of [
        ["GET", "/api/users/me"],
        ["GET", "/api/users?limit=2&offset=1"],
        ["GET", `/api/tenants/${acme.tenant.id}`],
        ["POST", "/api/tenants"],
        ["POST", "/api/auth/login"],
        ["DELETE", `/api/user-roles/${randomUUID()}`],
      ] as const) {
        const reply = await api.call(method, bare, method === "POST" ? { json: {} } : {});
        expect(reply.status, statusOf(reply)).toBe(308);
        const [pathname = "", query] = bare.split("?");
        expect(reply.headers.get("location")).toBe(`${pathname}/${query ? `?${query}` : ""}`);
      }
    });

    it("keeps a POST's method and body when the caller follows the redirect", async () => {
      const created = await api.call("POST", "/api/tenants", {
        json: { name: "Redirected Inc", admin_email: "owner@redirected.example.com", admin_password: PASSWORD },
        redirect: "follow",
      });
      expect(created.status, statusOf(created)).toBe(201);
      expect(created.body).toMatchObject({ name: "Redirected Inc", slug: "redirected-inc" });

      const login = await api.call("POST", "/api/auth/login", {
        json: { email: "owner@redirected.example.com", password: PASSWORD },
        redirect: "follow",
      });
      expect(login.status, statusOf(login)).toBe(200);
      const me = await api.call("GET", "/api/users/me", { token: login.body.token, redirect: "follow" });
      expect(me.status, statusOf(me)).toBe(200);
      expect(me.body.email).toBe("owner@redirected.example.com");
    });
  });

  describe("security headers", () => {
    it("sends helmet's headers on API successes and errors alike", async () => {
      const replies = [
        await api.get("/api/users/me/", { token: acme.adminToken }),
        await api.post("/api/tenants/", {}),
        await api.get("/api/users/me/"),
        await api.get("/api/nope/"),
        await api.call("PUT", "/api/users/me/"),
        await api.get("/api/openapi.json"),
      ];
      for (const reply of replies) {
        for (const header of SECURITY_HEADERS)
          expect(reply.headers.get(header), `${header} on ${statusOf(reply)}`).toBeTruthy();
        expect(reply.headers.get("x-content-type-options")).toBe("nosniff");
        expect(reply.headers.get("x-frame-options")).toMatch(/^(DENY|SAMEORIGIN)$/);
        expect(reply.headers.get("strict-transport-security")).toMatch(/max-age=\d+/);
        expect(reply.headers.get("x-powered-by")).toBeNull();
      }
    });
  });
});

describe("REST errors with a clock that stands still and throttling on", () => {
  let server: TestServer;
  let api: RestClient;
  const clock = new ManualClock("2026-11-29T10:00:00.000Z");
  beforeAll(async () => {
    server = await startTestServer({ overrides: { clock } });
    api = new RestClient(server.url);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("answers an expired session token with 'Invalid token.'", async () => {
    clock.set("2026-11-29T10:00:00.000Z");
    const { adminToken } = await signUpRest(api);
    clock.advance(30 * DAY_MS + 1000);
    const reply = await api.get("/api/users/me/", { token: adminToken });
    expect(reply.status, statusOf(reply)).toBe(401);
    expect(reply.body).toEqual(DETAIL.invalidToken);
    expectWwwAuthenticate(reply);
  });

  it("throttles logins per IP: 429 with DRF's message and Retry-After, even with the right password", async () => {
    clock.set("2027-01-10T10:00:15.000Z");
    const { adminEmail } = await signUpRest(api); // one login counted
    const { limit } = THROTTLE_RULES.loginPerIp;
    for (let i = 1; i < limit; i++) {
      const failed = await api.post("/api/auth/login/", {
        email: `nobody${i}@throttle.example.com`,
        password: "wrong-pass",
      });
      expect(failed.status, statusOf(failed)).toBe(400);
    }
    const throttled = await api.post("/api/auth/login/", { email: adminEmail, password: PASSWORD });
    expect(throttled.status, statusOf(throttled)).toBe(429);
    expect(throttled.body).toEqual({ detail: "Request was throttled. Expected available in 45 seconds." });
    expect(throttled.headers.get("retry-after")).toBe("45");
    expect(throttled.headers.getSetCookie()).toEqual([]);
    // The next window lets the caller in again.
    clock.advance(45_000);
    const later = await api.post("/api/auth/login/", { email: adminEmail, password: PASSWORD });
    expect(later.status, statusOf(later)).toBe(200);
  });

  it("throttles tenant sign-ups and invitation accepts per IP the same way", async () => {
    clock.set("2027-02-01T10:20:00.000Z");
    const { limit: createLimit } = THROTTLE_RULES.tenantCreatePerIp;
    for (let i = 0; i < createLimit; i++) {
      const reply = await api.post("/api/tenants/", { name: `Throttled ${i}`, admin_email: "x", admin_password: "y" });
      expect(reply.status, statusOf(reply)).toBe(400);
    }
    const signUp = await api.post("/api/tenants/", {
      name: "One Too Many",
      admin_email: "owner@too-many.example.com",
      admin_password: PASSWORD,
    });
    expect(signUp.status, statusOf(signUp)).toBe(429);
    expect(signUp.body).toEqual({ detail: "Request was throttled. Expected available in 2400 seconds." });
    expect(signUp.headers.get("retry-after")).toBe("2400");

    const { limit: acceptLimit } = THROTTLE_RULES.acceptPerIp;
    for (let i = 0; i < acceptLimit; i++) {
      const reply = await api.post("/api/users/accept-invite/", { token: `bogus-token-${i}`, password: PASSWORD });
      expect(reply.status, statusOf(reply)).toBe(400);
    }
    const accept = await api.post("/api/users/accept-invite/", { token: "bogus-token-x", password: PASSWORD });
    expect(accept.status, statusOf(accept)).toBe(429);
    expect(accept.body).toEqual({ detail: "Request was throttled. Expected available in 60 seconds." });
    expect(accept.headers.get("retry-after")).toBe("60");
  });
});

describe("REST 500", () => {
  it("answers only {detail: 'A server error occurred.'} when a service fails, leaking nothing", async () => {
    let broken = false;
    const secret = "select password_hash from users where email = 'leak@example.com'";
    const server = await startTestServer({
      env: { THROTTLE: "off" },
      overrides: {
        clock: {
          now: () => {
            if (broken) throw new Error(`${secret} at Object.<anonymous> (/app/src/domain/sessions.ts:42:7)`);
            return new Date();
          },
        },
      },
    });
    try {
      const api = new RestClient(server.url);
      const { adminToken } = await signUpRest(api);
      broken = true;
      const replies = [
        await api.get("/api/users/me/", { token: adminToken }),
        await api.post("/api/users/invite/", { email: "a@b.example.com" }, { token: adminToken }),
      ];
      broken = false;
      for (const reply of replies) {
        expect(reply.status, statusOf(reply)).toBe(500);
        expect(reply.text).toBe('{"detail":"A server error occurred."}');
        expectJsonError(reply);
      }
    } finally {
      broken = false;
      await server.stop();
    }
  });

  it("answers only {detail: 'A server error occurred.'} when the database is gone", async () => {
    const server = await startTestServer({ env: { THROTTLE: "off" } });
    try {
      const api = new RestClient(server.url);
      const { adminToken, adminEmail } = await signUpRest(api);
      await server.loseDatabase();
      const replies = [
        await api.get("/api/users/me/", { token: adminToken }),
        await api.get("/api/users/", { token: adminToken }),
        await api.post("/api/auth/login/", { email: adminEmail, password: PASSWORD }),
      ];
      for (const reply of replies) {
        expect(reply.status, statusOf(reply)).toBe(500);
        expect(reply.text).toBe('{"detail":"A server error occurred."}');
        expect(reply.headers.getSetCookie()).toEqual([]);
      }
    } finally {
      await server.stop().catch(() => {});
    }
  });
});
