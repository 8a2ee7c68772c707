import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DETAIL,
  PASSWORD,
  RestClient,
  type RestTenant,
  sessionCookie,
  signUpRest,
  statusOf,
  uniqueName,
} from "../test-support/rest.js";
import { startTestServer, type TestServer } from "../test-support/server.js";

/** Logs the admin in again and returns the session cookie's value. */
async function cookieLogin(api: RestClient, email: string): Promise<string> {
  const login = await api.post("/api/auth/login/", { email, password: PASSWORD });
  expect(login.status, statusOf(login)).toBe(200);
  const cookie = sessionCookie(login);
  if (!cookie) throw new Error(`no session cookie: ${login.headers.getSetCookie().join(" | ")}`);
  return cookie.value;
}

describe("the session cookie and the CSRF origin check", () => {
  let server: TestServer;
  let api: RestClient;
  let acme: RestTenant;
  let ownOrigin: string;
  beforeAll(async () => {
    server = await startTestServer({ env: { THROTTLE: "off" } });
    api = new RestClient(server.url);
    acme = await signUpRest(api);
    ownOrigin = new URL(server.url).origin;
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("sets `session` on login: the token, HttpOnly, SameSite=Lax, Path=/, not Secure over http, expiring with the session", async () => {
    const login = await api.post("/api/auth/login/", { email: acme.adminEmail, password: PASSWORD });
    const cookie = sessionCookie(login);
    expect(cookie, login.headers.getSetCookie().join(" | ")).toBeDefined();
    expect(cookie?.value).toBe(login.body.token);
    const attributes = new Map(
      (cookie?.attributes ?? []).map((attribute) => {
        const [name = "", ...value] = attribute.split("=");
        return [name.toLowerCase(), value.join("=")] as const;
      }),
    );
    expect(attributes.has("httponly")).toBe(true);
    expect(attributes.get("samesite")?.toLowerCase()).toBe("lax");
    expect(attributes.get("path")).toBe("/");
    expect(attributes.has("secure")).toBe(false);
    const expires = attributes.get("expires");
    const maxAge = attributes.get("max-age");
    expect(expires ?? maxAge, "the cookie must not be a browser-session cookie").toBeDefined();
    if (expires) {
      expect(Math.abs(Date.parse(expires) - Date.parse(login.body.expires_at))).toBeLessThan(2000);
    }
  });

  it("authenticates GETs by the cookie alone, without any Origin", async () => {
    const cookie = await cookieLogin(api, acme.adminEmail);
    for (const path of [
      "/api/users/me/",
      "/api/users/",
      "/api/tenants/",
      "/api/user-roles/",
      "/api/users/invitations/",
    ]) {
      const reply = await api.get(path, { cookie });
      expect(reply.status, statusOf(reply)).toBe(200);
    }
    const me = await api.get("/api/users/me/", { cookie });
    expect(me.body.id).toBe(acme.adminId);
  });

  it("refuses cookie-authenticated changes without an Origin or from a foreign one", async () => {
    const cookie = await cookieLogin(api, acme.adminEmail);
    const port = new URL(server.url).port;
    const foreign = [
      undefined,
      "https://evil.example.com",
      "null",
      `http://localhost:${port}`,
      `https://127.0.0.1:${port}`,
      `http://127.0.0.1:${Number(port) + 1}`,
      `${ownOrigin}.evil.example.com`,
    ];
    const roles = await api.get("/api/user-roles/", { cookie });
    const changes: [string, string, unknown][] = [
      ["POST", "/api/users/invite/", { email: "csrf@cookies.example.com" }],
      ["POST", "/api/user-roles/", { user: acme.adminId, role: "VIEWER" }],
      ["DELETE", `/api/user-roles/${roles.body[0].id}/`, undefined],
      ["POST", "/api/auth/logout/", undefined],
    ];
    for (const origin of foreign) {
      for (const [method, path, json] of changes) {
        const reply = await api.call(method, path, { cookie, origin, json });
        expect(reply.status, `Origin ${origin}: ${statusOf(reply)}`).toBe(403);
        expect(reply.body).toEqual(DETAIL.csrf);
      }
    }
    // Nothing happened, and the session still works.
    const invitations = await api.get("/api/users/invitations/", { cookie });
    expect(invitations.body).toEqual([]);
    const after = await api.get("/api/user-roles/", { cookie });
    expect(after.body).toEqual(roles.body);
    expect((await api.get("/api/users/me/", { cookie })).status).toBe(200);
  });

  it("allows cookie-authenticated changes from the server's own origin", async () => {
    const cookie = await cookieLogin(api, acme.adminEmail);
    const invited = await api.post(
      "/api/users/invite/",
      { email: "same-origin@cookies.example.com", role: "VIEWER" },
      { cookie, origin: ownOrigin },
    );
    expect(invited.status, statusOf(invited)).toBe(201);
    const revoked = await api.delete(`/api/users/invitations/${invited.body.id}/`, { cookie, origin: ownOrigin });
    expect(revoked.status, statusOf(revoked)).toBe(204);
  });

  it("needs no Origin from bearer and token callers, even when a cookie rides along", async () => {
    const cookie = await cookieLogin(api, acme.adminEmail);
    for (const scheme of ["Bearer", "Token"]) {
      const reply = await api.post(
        "/api/users/invite/",
        { email: `${uniqueName(scheme.toLowerCase())}@cookies.example.com` },
        { token: acme.adminToken, scheme },
      );
      expect(reply.status, statusOf(reply)).toBe(201);
      const withCookie = await api.post(
        "/api/users/invite/",
        { email: `${uniqueName(scheme.toLowerCase())}@cookies.example.com` },
        { token: acme.adminToken, scheme, cookie, origin: "https://evil.example.com" },
      );
      expect(withCookie.status, statusOf(withCookie)).toBe(201);
    }
  });

  it("checks the Origin when an Authorization header that is not Bearer or Token rides along with the cookie", async () => {
    // Browsers add Basic or Negotiate credentials by themselves (intranets, staging sites); the cookie
    // still authenticates such a request, so it is a cookie-authenticated change.
    const cookie = await cookieLogin(api, acme.adminEmail);
    for (const authorization of ["Basic dXNlcjpwYXNzd29yZA==", "Negotiate YIIJvwYGKwYBBQUCoIIJszCCCa+gMDAuBgkqhkiC"]) {
      for (const origin of [undefined, "https://evil.example.com"]) {
        const reply = await api.post(
          "/api/users/invite/",
          { email: "basic@cookies.example.com" },
          { cookie, origin, headers: { authorization } },
        );
        expect(reply.status, `${authorization.split(" ")[0]}, Origin ${origin}: ${statusOf(reply)}`).toBe(403);
        expect(reply.body).toEqual(DETAIL.csrf);
      }
    }
    const invitations = await api.get("/api/users/invitations/", { cookie });
    expect(invitations.body.filter((row: { email: string }) => row.email === "basic@cookies.example.com")).toEqual([]);
    const own = await api.post(
      "/api/users/invite/",
      { email: "basic@cookies.example.com" },
      { cookie, origin: ownOrigin, headers: { authorization: "Basic dXNlcjpwYXNzd29yZA==" } },
    );
    expect(own.status, statusOf(own)).toBe(201);
  });

  it("lets anonymous public calls through without an Origin (sign-up, login, accept)", async () => {
    const created = await api.post("/api/tenants/", {
      name: "No Origin Needed",
      admin_email: "owner@no-origin.example.com",
      admin_password: PASSWORD,
    });
    expect(created.status, statusOf(created)).toBe(201);
    const login = await api.post("/api/auth/login/", { email: "owner@no-origin.example.com", password: PASSWORD });
    expect(login.status, statusOf(login)).toBe(200);
  });

  it("clears the cookie on logout, and the old cookie stops authenticating", async () => {
    const cookie = await cookieLogin(api, acme.adminEmail);
    const logout = await api.post("/api/auth/logout/", undefined, { cookie, origin: ownOrigin });
    expect(logout.status, statusOf(logout)).toBe(204);
    expect(logout.text).toBe("");
    const cleared = sessionCookie(logout);
    expect(cleared, logout.headers.getSetCookie().join(" | ")).toBeDefined();
    expect(cleared?.value).toBe("");
    const attributes = (cleared?.attributes ?? []).map((attribute) => attribute.toLowerCase());
    const maxAgeZero = attributes.includes("max-age=0");
    const expiresInPast = attributes.some(
      (attribute) => attribute.startsWith("expires=") && Date.parse(attribute.slice(8)) < Date.now(),
    );
    expect(maxAgeZero || expiresInPast, attributes.join("; ")).toBe(true);
    expect(attributes).toContain("path=/");

    const stale = await api.get("/api/users/me/", { cookie });
    expect(stale.status, statusOf(stale)).toBe(401);
    expect(stale.body).toEqual(DETAIL.invalidToken);
    // Bearer logout clears the cookie too.
    const bearer = await api.post("/api/auth/logout/", undefined, { token: await cookieLogin(api, acme.adminEmail) });
    expect(bearer.status, statusOf(bearer)).toBe(204);
    expect(sessionCookie(bearer)?.value).toBe("");
  });

  it("ends only the calling session on logout", async () => {
    const first = await cookieLogin(api, acme.adminEmail);
    const second = await cookieLogin(api, acme.adminEmail);
    expect(first).not.toBe(second);
    expect((await api.post("/api/auth/logout/", undefined, { cookie: first, origin: ownOrigin })).status).toBe(204);
    expect((await api.get("/api/users/me/", { cookie: first })).status).toBe(401);
    expect((await api.get("/api/users/me/", { cookie: second })).status).toBe(200);
  });
});

describe("ALLOWED_ORIGINS", () => {
  let server: TestServer;
  let api: RestClient;
  let acme: RestTenant;
  beforeAll(async () => {
    server = await startTestServer({ env: { THROTTLE: "off", ALLOWED_ORIGINS: "https://app.example.com" } });
    api = new RestClient(server.url);
    acme = await signUpRest(api);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("allows cookie-authenticated changes from an allowed origin, as well as the server's own, and no other", async () => {
    const cookie = await cookieLogin(api, acme.adminEmail);
    const allowed = await api.post(
      "/api/users/invite/",
      { email: "allowed@cookies.example.com" },
      { cookie, origin: "https://app.example.com" },
    );
    expect(allowed.status, statusOf(allowed)).toBe(201);
    const own = await api.post(
      "/api/users/invite/",
      { email: "own@cookies.example.com" },
      { cookie, origin: new URL(server.url).origin },
    );
    expect(own.status, statusOf(own)).toBe(201);
    for (const origin of [
      "https://evil.example.com",
      "http://app.example.com",
      "https://app.example.com:8443",
      undefined,
    ]) {
      const reply = await api.post("/api/users/invite/", { email: "refused@cookies.example.com" }, { cookie, origin });
      expect(reply.status, `Origin ${origin}: ${statusOf(reply)}`).toBe(403);
      expect(reply.body).toEqual(DETAIL.csrf);
    }
    const logout = await api.post("/api/auth/logout/", undefined, { cookie, origin: "https://app.example.com" });
    expect(logout.status, statusOf(logout)).toBe(204);
  });
});

describe("behind an https proxy (TRUST_PROXY)", () => {
  let server: TestServer;
  let api: RestClient;
  beforeAll(async () => {
    server = await startTestServer({ env: { THROTTLE: "off", TRUST_PROXY: "true" } });
    api = new RestClient(server.url);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("marks the session cookie Secure and links pages with https", async () => {
    const https = { headers: { "x-forwarded-proto": "https" } };
    const created = await api.post(
      "/api/tenants/",
      { name: "Proxied Inc", admin_email: "owner@proxied.example.com", admin_password: PASSWORD },
      https,
    );
    expect(created.status, statusOf(created)).toBe(201);
    const login = await api.post("/api/auth/login/", { email: "owner@proxied.example.com", password: PASSWORD }, https);
    expect(login.status, statusOf(login)).toBe(200);
    const attributes = (sessionCookie(login)?.attributes ?? []).map((attribute) => attribute.toLowerCase());
    expect(attributes, login.headers.getSetCookie().join(" | ")).toContain("secure");
    expect(attributes).toContain("httponly");

    // Over plain http (no forwarded proto) the cookie is not Secure.
    const plain = await api.post("/api/auth/login/", { email: "owner@proxied.example.com", password: PASSWORD });
    expect((sessionCookie(plain)?.attributes ?? []).map((a) => a.toLowerCase())).not.toContain("secure");

    await api.post("/api/users/invite/", { email: "one@proxied.example.com" }, { token: login.body.token });
    await api.post("/api/users/invite/", { email: "two@proxied.example.com" }, { token: login.body.token });
    const page = await api.get("/api/users/invitations/?limit=1", { ...https, token: login.body.token });
    expect(page.status, statusOf(page)).toBe(200);
    expect(new URL(page.body.next).protocol).toBe("https:");

    // The origin check knows the server's own origin is https now.
    const cookie = sessionCookie(login)?.value ?? "";
    const host = new URL(server.url).host;
    const own = await api.post(
      "/api/users/invite/",
      { email: "three@proxied.example.com" },
      { cookie, origin: `https://${host}`, headers: { "x-forwarded-proto": "https" } },
    );
    expect(own.status, statusOf(own)).toBe(201);
  });
});
