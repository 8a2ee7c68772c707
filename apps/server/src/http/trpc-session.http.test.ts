import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAY_MS, ManualClock } from "../domain/clock.js";
import { STRONG_PASSWORD } from "../test-support/harness.js";
import { startTestServer, type TestServer } from "../test-support/server.js";

interface Call {
  input?: unknown;
  cookie?: string;
  origin?: string;
  headers?: Record<string, string>;
}

interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected key by key
  body: any;
}

const CSRF = "CSRF Failed: Origin checking failed.";
const ALLOWED = "https://app.example.com";

/** The `session` Set-Cookie of an answer, if any. */
function sessionSetCookie(answer: Answer): string | undefined {
  return answer.headers.getSetCookie().find((cookie) => cookie.startsWith("session="));
}

function cookieExpiry(setCookie: string | undefined): number {
  return new Date(/Expires=([^;]+)/.exec(setCookie ?? "")?.[1] ?? 0).getTime();
}

/**
 * The `session` cookie and the Origin rule on /trpc: the same cookie as the
 * REST login sets, refreshed when a request slides the session, and
 * cookie-authenticated mutations only from the server's own (or an allowed) origin.
 */
describe("the session cookie on /trpc", () => {
  const clock = new ManualClock(new Date());
  let server: TestServer;
  let ownOrigin: string;

  beforeAll(async () => {
    server = await startTestServer({ env: { THROTTLE: "off", ALLOWED_ORIGINS: ALLOWED }, overrides: { clock } });
    ownOrigin = new URL(server.url).origin;
    const created = await mutate("tenant.create", {
      input: { name: "Cookie Jar", adminEmail: "owner@jar.example", adminPassword: STRONG_PASSWORD },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function send(method: "GET" | "POST", pathAndQuery: string, call: Call, body?: string): Promise<Answer> {
    const headers: Record<string, string> = { ...call.headers };
    if (method === "POST") headers["content-type"] = "application/json";
    if (call.cookie) headers.cookie = `session=${call.cookie}`;
    if (call.origin) headers.origin = call.origin;
    const response = await fetch(`${server.url}${pathAndQuery}`, { method, headers, body });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  }

  const mutate = (path: string, call: Call = {}) =>
    send("POST", `/trpc/${path}`, call, call.input === undefined ? undefined : JSON.stringify(call.input));

  const query = (path: string, call: Call = {}, extra = "") => {
    const input = call.input === undefined ? "" : `input=${encodeURIComponent(JSON.stringify(call.input))}`;
    const search = [input, extra].filter(Boolean).join("&");
    return send("GET", `/trpc/${path}${search ? `?${search}` : ""}`, call);
  };

  async function login(): Promise<string> {
    const answer = await mutate("auth.login", { input: { email: "owner@jar.example", password: STRONG_PASSWORD } });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body.result.data.token;
  }

  async function invitationEmails(token: string): Promise<string[]> {
    const answer = await query("invite.list", { headers: { authorization: `Bearer ${token}` } });
    return (answer.body.result.data as { email: string }[]).map((row) => row.email);
  }

  it("sets the cookie on auth.login exactly as REST's login does", async () => {
    const rest = await fetch(`${server.url}/api/auth/login/`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "owner@jar.example", password: STRONG_PASSWORD }),
    });
    const restBody = (await rest.json()) as { token: string };
    const restCookie = rest.headers.getSetCookie().find((cookie) => cookie.startsWith("session="));
    expect(restCookie).toBeDefined();

    const answer = await mutate("auth.login", { input: { email: "owner@jar.example", password: STRONG_PASSWORD } });
    expect(answer.status).toBe(200);
    const token = answer.body.result.data.token as string;
    const cookie = sessionSetCookie(answer);
    expect(cookie, answer.headers.getSetCookie().join(" | ")).toBeDefined();
    // The clock stands still, so the two differ in the token alone.
    expect(cookie?.replace(token, "<token>")).toBe(restCookie?.replace(restBody.token, "<token>"));
    expect(cookie).toMatch(/^session=[^;]+; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/);

    // A failed login sets nothing.
    const failed = await mutate("auth.login", { input: { email: "owner@jar.example", password: "wrong-Password-1" } });
    expect(failed.status).toBe(400);
    expect(sessionSetCookie(failed)).toBeUndefined();
  });

  it("clears the cookie on auth.logout exactly as REST's logout does", async () => {
    const restToken = await login();
    const rest = await fetch(`${server.url}/api/auth/logout/`, {
      method: "POST",
      headers: { cookie: `session=${restToken}`, origin: ownOrigin },
    });
    expect(rest.status).toBe(204);
    const restCleared = rest.headers.getSetCookie().find((cookie) => cookie.startsWith("session="));
    expect(restCleared).toBeDefined();

    const cookie = await login();
    const answer = await mutate("auth.logout", { cookie, origin: ownOrigin });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(sessionSetCookie(answer)).toBe(restCleared);
    expect((await query("user.me", { cookie })).status).toBe(401);

    // A bearer caller's logout clears it too, as REST's does.
    const bearer = await mutate("auth.logout", { headers: { authorization: `Bearer ${await login()}` } });
    expect(bearer.status, JSON.stringify(bearer.body)).toBe(200);
    expect(sessionSetCookie(bearer)).toBe(restCleared);
  });

  it("sets the cookie again when a request slides the session, on every path, and not before", async () => {
    const cookie = await login();
    clock.advance(DAY_MS);
    const early = await query("user.me", { cookie });
    expect(early.status).toBe(200);
    expect(sessionSetCookie(early)).toBeUndefined();

    const renewals: [string, () => Promise<Answer>][] = [
      ["a plain query (answered directly)", () => query("user.me", { cookie })],
      ["a query through the adapter", () => query("user.me", { cookie }, "via=adapter")],
      ["a batch of queries", () => query("user.me,role.list", { cookie, input: { 0: undefined, 1: {} } }, "batch=1")],
      [
        "a mutation",
        () => mutate("invite.create", { cookie, origin: ownOrigin, input: { email: "slide@jar.example" } }),
      ],
      [
        "a query with a Basic Authorization header beside the cookie",
        () => query("user.me", { cookie, headers: { authorization: "Basic dXNlcjpwYXNzd29yZA==" } }),
      ],
      ["a refused call (the cookie still authenticated it)", () => query("ops.tenants", { cookie })],
    ];
    for (const [name, call] of renewals) {
      clock.advance(16 * DAY_MS);
      const answer = await call();
      expect(answer.status, `${name}: ${JSON.stringify(answer.body)}`).toBeLessThan(500);
      const setCookie = sessionSetCookie(answer);
      expect(setCookie?.split(";")[0], name).toBe(`session=${cookie}`);
      expect(Math.abs(cookieExpiry(setCookie) - (clock.now().getTime() + 30 * DAY_MS)), name).toBeLessThan(1000);
      expect(setCookie, name).toMatch(/^session=[^;]+; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/);
    }

    // Bearer callers carry their token themselves: no cookie for them.
    clock.advance(16 * DAY_MS);
    const bearer = await query("user.me", { headers: { authorization: `Bearer ${cookie}` } });
    expect(bearer.status).toBe(200);
    expect(sessionSetCookie(bearer)).toBeUndefined();
  });

  it("refuses cookie-authenticated mutations without an Origin or from a foreign one", async () => {
    const cookie = await login();
    const port = new URL(server.url).port;
    const foreign = [
      undefined,
      "https://evil.example.com",
      "null",
      `http://localhost:${port}`,
      `http://127.0.0.1:${Number(port) + 1}`,
      `${ownOrigin}.evil.example.com`,
      "http://app.example.com",
    ];
    const headerSets: Record<string, string>[] = [
      {},
      { authorization: "Basic dXNlcjpwYXNzd29yZA==" },
      { authorization: "Negotiate YIIJvwYGKwYBBQUCoIIJszCCCa+gMDAuBgkqhkiC" },
    ];
    for (const origin of foreign) {
      for (const headers of headerSets) {
        const what = `Origin ${origin}, ${headers.authorization ?? "no Authorization"}`;
        const answer = await mutate("invite.create", {
          cookie,
          origin,
          headers,
          input: { email: "csrf@jar.example" },
        });
        expect(answer.status, `${what}: ${JSON.stringify(answer.body)}`).toBe(403);
        expect(answer.body.error.message, what).toBe(CSRF);
        expect(answer.body.error.data.code, what).toBe("FORBIDDEN");
        expect(answer.body.error.data.path, what).toBe("invite.create");

        const logout = await mutate("auth.logout", { cookie, origin, headers });
        expect(logout.status, what).toBe(403);
        expect(sessionSetCookie(logout), what).toBeUndefined();
      }
    }
    // A batch: every call is refused.
    const batch = await send(
      "POST",
      "/trpc/invite.create,auth.logout?batch=1",
      { cookie, origin: "https://evil.example.com" },
      JSON.stringify({ 0: { email: "batch@jar.example" } }),
    );
    expect(batch.status).toBe(403);
    expect(batch.body.map((call: { error: { message: string } }) => call.error.message)).toEqual([CSRF, CSRF]);

    // Nothing happened, and the session still works.
    expect(await invitationEmails(cookie)).not.toContain("csrf@jar.example");
    expect(await invitationEmails(cookie)).not.toContain("batch@jar.example");
    expect((await query("user.me", { cookie })).status).toBe(200);
  });

  it("allows cookie-authenticated mutations from the server's own origin and allowed ones", async () => {
    const cookie = await login();
    for (const [origin, email] of [
      [ownOrigin, "own@jar.example"],
      [ALLOWED, "allowed@jar.example"],
    ] as const) {
      const answer = await mutate("invite.create", { cookie, origin, input: { email } });
      expect(answer.status, `${origin}: ${JSON.stringify(answer.body)}`).toBe(200);
      // A Basic header beside the cookie changes nothing for a same-origin request.
      const basic = await mutate("invite.create", {
        cookie,
        origin,
        headers: { authorization: "Basic dXNlcjpwYXNzd29yZA==" },
        input: { email: `basic-${email}` },
      });
      expect(basic.status, `${origin}: ${JSON.stringify(basic.body)}`).toBe(200);
    }
  });

  it("needs no Origin from bearer and token callers, even when a cookie rides along", async () => {
    const token = await login();
    const cookie = await login();
    for (const scheme of ["Bearer", "Token"]) {
      const email = `${scheme.toLowerCase()}@jar.example`;
      const answer = await mutate("invite.create", {
        cookie,
        origin: "https://evil.example.com",
        headers: { authorization: `${scheme} ${token}` },
        input: { email },
      });
      expect(answer.status, `${scheme}: ${JSON.stringify(answer.body)}`).toBe(200);
    }
  });

  it("lets anonymous public mutations through without an Origin", async () => {
    const answer = await mutate("auth.login", { input: { email: "owner@jar.example", password: STRONG_PASSWORD } });
    expect(answer.status).toBe(200);
  });
});
