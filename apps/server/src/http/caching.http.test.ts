import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSWORD, RestClient, type RestTenant, signUpRest, statusOf } from "../test-support/rest.js";
import { startTestServer, type TestServer } from "../test-support/server.js";

/**
 * Answers that carry a token or depend on who asks must not be stored by a
 * browser or a shared cache: every /api and /trpc answer says `no-store`,
 * and tRPC's GET answers vary by the credentials.
 */
describe("caching of API answers", () => {
  let server: TestServer;
  let api: RestClient;
  let acme: RestTenant;
  beforeAll(async () => {
    server = await startTestServer({ env: { THROTTLE: "off" } });
    api = new RestClient(server.url);
    acme = await signUpRest(api);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.url}${path}`, { headers });
  const bearer = () => ({ authorization: `Bearer ${acme.adminToken}` });

  it("says no-store on every REST answer: tokens, reads, changes and errors", async () => {
    const login = await api.post("/api/auth/login/", { email: acme.adminEmail, password: PASSWORD });
    const invited = await api.post(
      "/api/users/invite/",
      { email: "cache@caching.example" },
      { token: acme.adminToken },
    );
    const resent = await api.post(`/api/users/invitations/${invited.body.id}/resend/`, undefined, {
      token: acme.adminToken,
    });
    const replies = [
      login,
      invited,
      resent,
      await api.get("/api/users/me/", { token: acme.adminToken }),
      await api.get("/api/users/invitations/?limit=1", { token: acme.adminToken }),
      await api.get("/api/users/me/"),
      await api.post("/api/auth/login/", { email: acme.adminEmail, password: "wrong-Password-1" }),
      await api.get("/api/nothing-here/"),
      await api.call("PUT", "/api/users/me/", { token: acme.adminToken, json: {} }),
      await api.get("/api/users/me", { token: acme.adminToken }),
    ];
    expect(login.body.token).toBeDefined();
    expect(invited.body.token).toBeDefined();
    expect(resent.body.token, statusOf(resent)).toBeDefined();
    for (const reply of replies) expect(reply.headers.get("cache-control"), statusOf(reply)).toBe("no-store");
  });

  it("leaves the OpenAPI document, the docs page and health checks cacheable", async () => {
    for (const path of ["/api/openapi.json", "/api/docs/", "/healthz", "/readyz"]) {
      const response = await get(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get("cache-control") ?? "", path).not.toContain("no-store");
    }
  });

  it("says no-store on every tRPC answer, and varies GET answers by Authorization and Cookie", async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${server.url}/trpc/${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...bearer() },
        body: JSON.stringify(body),
      });
    const login = await post("auth.login", { email: acme.adminEmail, password: PASSWORD });
    expect(login.status).toBe(200);
    const invited = await post("invite.create", { email: "trpc-cache@caching.example" });
    expect(invited.status).toBe(200);
    for (const response of [login, invited, await post("user.me", {})]) {
      expect(response.headers.get("cache-control"), response.url).toBe("no-store");
    }

    const reads = [
      "/trpc/user.me",
      "/trpc/user.me?via=adapter",
      `/trpc/user.me,role.list?batch=1&input=${encodeURIComponent(JSON.stringify({ 1: {} }))}`,
      "/trpc/nope.none",
    ];
    for (const path of reads) {
      for (const headers of [bearer(), {}]) {
        const response = await get(path, headers);
        expect(response.headers.get("cache-control"), path).toBe("no-store");
        expect(response.headers.get("vary"), path).toBe("trpc-accept, accept, Authorization, Cookie");
      }
    }
  });
});
