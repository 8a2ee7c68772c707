import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAY_MS, ManualClock } from "../domain/clock.js";
import { STRONG_PASSWORD } from "../test-support/harness.js";
import { startTestServer, type TestServer } from "../test-support/server.js";
import { fastPathAnswerCount } from "./trpc.js";

/** Headers that differ between any two answers, or only in how the body is framed. */
const UNCOMPARED = new Set(["date", "x-request-id", "content-length", "transfer-encoding", "connection", "keep-alive"]);

interface Answer {
  status: number;
  /** Every header but the uncompared ones, `Set-Cookie` included, in a stable order. */
  headers: [string, string][];
  body: string;
}

/**
 * Plain JSON queries are answered by our own handler; anything else by
 * tRPC's adapter. An extra query parameter sends a call to the adapter, so
 * every answer can be compared, status, headers and body bytes, with the
 * adapter's answer to the same call; the fast path's counter proves which
 * path answered each.
 */
describe("tRPC queries answered directly", () => {
  const clock = new ManualClock(new Date());
  let server: TestServer;
  let token: string;
  let cookieToken: string;
  let viewerToken: string;
  let tenantId: string;

  beforeAll(async () => {
    server = await startTestServer({ env: { THROTTLE: "off" }, overrides: { clock } });
    const created = await post("/trpc/tenant.create", {
      name: "Fast Path Co",
      adminEmail: "owner@fast.example",
      adminPassword: STRONG_PASSWORD,
    });
    tenantId = created.result.data.id ?? "";
    token = await login("owner@fast.example");
    cookieToken = await login("owner@fast.example");
    const invited = await post("/trpc/invite.create", { email: "viewer@fast.example", role: "VIEWER" }, token);
    await post("/trpc/invite.accept", { token: invited.result.data.token, password: STRONG_PASSWORD });
    viewerToken = await login("viewer@fast.example");
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function post(path: string, input: unknown, bearer?: string) {
    const response = await fetch(`${server.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      body: JSON.stringify(input),
    });
    return (await response.json()) as { result: { data: Record<string, string> } };
  }

  async function login(email: string): Promise<string> {
    return (await post("/trpc/auth.login", { email, password: STRONG_PASSWORD })).result.data.token ?? "";
  }

  /** Makes every session due for renewal, so that the next request slides it. */
  async function dueForRenewal(): Promise<void> {
    const expiresAt = new Date(clock.now().getTime() + 10 * DAY_MS);
    await server.db.orm.em.fork().getConnection().execute("update sessions set expires_at = ?", [expiresAt], "run");
  }

  async function answer(url: string, headers: Record<string, string>): Promise<Answer> {
    const response = await fetch(url, { headers });
    return {
      status: response.status,
      headers: [...response.headers].filter(([name]) => !UNCOMPARED.has(name)),
      body: await response.text(),
    };
  }

  async function both(pathAndQuery: string, headers: Record<string, string>, prepare?: () => Promise<void>) {
    const url = `${server.url}${pathAndQuery}`;
    await prepare?.();
    const counted = fastPathAnswerCount();
    const ours = await answer(url, headers);
    expect(fastPathAnswerCount(), "answered directly").toBe(counted + 1);
    await prepare?.();
    const adapter = await answer(`${url}${url.includes("?") ? "&" : "?"}via=adapter`, headers);
    expect(fastPathAnswerCount(), "answered by tRPC's adapter").toBe(counted + 1);
    return { ours, adapter };
  }

  const auth = () => ({ authorization: `Bearer ${token}` });
  const cookie = () => ({ cookie: `session=${cookieToken}` });
  const input = (value: unknown) => `input=${encodeURIComponent(JSON.stringify(value))}`;
  const batchInput = (...inputs: unknown[]) => input(Object.fromEntries(inputs.map((value, i) => [i, value])));

  type Case = [string, () => string, () => Record<string, string>, (() => Promise<void>)?];
  const cases: Case[] = [
    ["a query without input", () => "/trpc/user.me", auth],
    ["a query with input", () => `/trpc/role.list?${input({ role: "ADMIN" })}`, auth],
    [
      "a batch",
      () => `/trpc/user.me,role.list,tenant.get?batch=1&${batchInput(undefined, {}, { id: tenantId })}`,
      auth,
    ],
    ["an anonymous caller (401, no credentials)", () => "/trpc/user.me", () => ({})],
    ["an invalid token (401)", () => "/trpc/user.me", () => ({ authorization: "Bearer nope" })],
    ["a Bearer header without a token (401)", () => "/trpc/user.me", () => ({ authorization: "Bearer" })],
    ["invalid input (400)", () => `/trpc/tenant.get?${input({ id: 5 })}`, auth],
    ["another tenant's object (404)", () => `/trpc/tenant.get?${input({ id: "zzz" })}`, auth],
    [
      "a call the role may not make (403)",
      () => `/trpc/invite.list?${input({})}`,
      () => ({
        authorization: `Bearer ${viewerToken}`,
      }),
    ],
    [
      "a batch of mixed outcomes (207)",
      () => `/trpc/user.me,tenant.get?batch=1&${batchInput(undefined, { id: "x" })}`,
      auth,
    ],
    [
      "a batch that fails alike (401)",
      () => `/trpc/user.me,role.list?batch=1&${batchInput(undefined, {})}`,
      () => ({}),
    ],
    ["a cookie session", () => "/trpc/user.me", cookie],
    ["a cookie session that slides (Set-Cookie)", () => "/trpc/user.me", cookie, dueForRenewal],
    [
      "a batch on a cookie session that slides (Set-Cookie)",
      () => `/trpc/user.me,role.list?batch=1&${batchInput(undefined, {})}`,
      cookie,
      dueForRenewal,
    ],
    [
      "a cookie session that slides beside a Basic header (Set-Cookie)",
      () => "/trpc/user.me",
      () => ({ ...cookie(), authorization: "Basic dXNlcjpwYXNzd29yZA==" }),
      dueForRenewal,
    ],
    [
      "a bearer session that slides (no Set-Cookie)",
      () => "/trpc/user.me",
      () => ({ ...auth(), ...cookie() }),
      dueForRenewal,
    ],
    [
      "a refused call on a cookie session that slides (403, Set-Cookie)",
      () => "/trpc/ops.tenants",
      cookie,
      dueForRenewal,
    ],
    ["an unknown cookie (401)", () => "/trpc/user.me", () => ({ cookie: "session=nope" })],
  ];

  it.each(cases)("answers %s exactly as tRPC's adapter does", async (_name, path, headers, prepare) => {
    const { ours, adapter } = await both(path(), headers(), prepare);
    expect(ours).toEqual(adapter);
    expect(ours.headers).toContainEqual(["cache-control", "no-store"]);
    expect(ours.headers).toContainEqual(["vary", "trpc-accept, accept, Authorization, Cookie"]);
  });

  it("passes on a sliding session's cookie, and nothing when the session did not slide", async () => {
    const slid = await both("/trpc/user.me", cookie(), dueForRenewal);
    const setCookie = slid.ours.headers.filter(([name]) => name === "set-cookie").map(([, value]) => value);
    expect(setCookie).toHaveLength(1);
    expect(setCookie[0]?.startsWith(`session=${cookieToken};`)).toBe(true);
    const still = await both("/trpc/user.me", cookie());
    expect(still.ours.headers.some(([name]) => name === "set-cookie")).toBe(false);
  });

  it("leaves mutations and unknown procedures to the adapter", async () => {
    for (const path of ["/trpc/nope.none", "/trpc/auth.logout"]) {
      const counted = fastPathAnswerCount();
      const response = await fetch(`${server.url}${path}`, { headers: auth() });
      expect(response.status, path).toBeGreaterThanOrEqual(400);
      expect(((await response.json()) as { error?: unknown }).error, path).toBeDefined();
      expect(fastPathAnswerCount(), path).toBe(counted);
    }
  });
});
