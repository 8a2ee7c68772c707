import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STRONG_PASSWORD } from "../test-support/harness.js";
import { startTestServer, type TestServer } from "../test-support/server.js";

/**
 * Plain JSON queries are answered by our own handler; anything else by
 * tRPC's adapter. An extra query parameter sends a call to the adapter, so
 * every answer can be compared with the adapter's answer to the same call.
 */
describe("tRPC queries answered directly", () => {
  let server: TestServer;
  let token: string;
  let tenantId: string;

  beforeAll(async () => {
    server = await startTestServer({ env: { THROTTLE: "off" } });
    const created = await post("/trpc/tenant.create", {
      name: "Fast Path Co",
      adminEmail: "owner@fast.example",
      adminPassword: STRONG_PASSWORD,
    });
    tenantId = created.result.data.id ?? "";
    const login = await post("/trpc/auth.login", { email: "owner@fast.example", password: STRONG_PASSWORD });
    token = login.result.data.token ?? "";
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function post(path: string, input: unknown) {
    const response = await fetch(`${server.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(input),
    });
    return (await response.json()) as { result: { data: Record<string, string> } };
  }

  async function both(pathAndQuery: string, headers: Record<string, string> = {}) {
    const get = async (url: string) => {
      const response = await fetch(url, { headers });
      return {
        status: response.status,
        type: response.headers.get("content-type"),
        vary: response.headers.get("vary"),
        body: await response.json(),
      };
    };
    const url = `${server.url}${pathAndQuery}`;
    return { ours: await get(url), adapter: await get(`${url}${url.includes("?") ? "&" : "?"}via=adapter`) };
  }

  const auth = () => ({ authorization: `Bearer ${token}` });
  const batchInput = (...inputs: unknown[]) =>
    `input=${encodeURIComponent(JSON.stringify(Object.fromEntries(inputs.map((input, i) => [i, input]))))}`;

  const cases: [string, () => string, () => Record<string, string>][] = [
    ["a query without input", () => "/trpc/user.me", auth],
    [
      "a query with input",
      () => `/trpc/role.list?input=${encodeURIComponent(JSON.stringify({ role: "ADMIN" }))}`,
      auth,
    ],
    [
      "a batch",
      () => `/trpc/user.me,role.list,tenant.get?batch=1&${batchInput(undefined, {}, { id: tenantId })}`,
      auth,
    ],
    ["an anonymous caller", () => "/trpc/user.me", () => ({})],
    ["an invalid token", () => "/trpc/user.me", () => ({ authorization: "Bearer nope" })],
    ["invalid input", () => `/trpc/tenant.get?input=${encodeURIComponent(JSON.stringify({ id: 5 }))}`, auth],
    [
      "a batch of mixed outcomes (207)",
      () => `/trpc/user.me,tenant.get?batch=1&${batchInput(undefined, { id: "x" })}`,
      auth,
    ],
    [
      "another tenant's object",
      () => `/trpc/tenant.get?input=${encodeURIComponent(JSON.stringify({ id: "zzz" }))}`,
      auth,
    ],
  ];

  it.each(cases)("answers %s exactly as tRPC's adapter does", async (_name, path, headers) => {
    const { ours, adapter } = await both(path(), headers());
    expect(ours).toEqual(adapter);
  });

  it("leaves mutations and unknown procedures to the adapter", async () => {
    for (const path of ["/trpc/nope.none", "/trpc/auth.logout"]) {
      const response = await fetch(`${server.url}${path}`, { headers: auth() });
      expect(response.status, path).toBeGreaterThanOrEqual(400);
      expect(((await response.json()) as { error?: unknown }).error, path).toBeDefined();
    }
  });
});
