import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAY_MS, ManualClock } from "../domain/clock.js";
import { STRONG_PASSWORD } from "../test-support/harness.js";
import { startTestServer, type TestServer } from "../test-support/server.js";

describe("the session cookie follows the sliding session", () => {
  const clock = new ManualClock(new Date());
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { THROTTLE: "off" }, overrides: { clock } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  const post = (path: string, body: unknown) =>
    fetch(`${server.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  it("is set again with the new expiry when a request renews the session, and not before", async () => {
    await post("/api/tenants/", {
      name: "Cookie Co",
      admin_email: "owner@cookie.example",
      admin_password: STRONG_PASSWORD,
    });
    const login = await post("/api/auth/login/", { email: "owner@cookie.example", password: STRONG_PASSWORD });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    expect(cookie).toMatch(/^session=\S+/);

    clock.advance(DAY_MS);
    const early = await fetch(`${server.url}/api/users/me/`, { headers: { cookie } });
    expect(early.status).toBe(200);
    expect(early.headers.get("set-cookie")).toBeNull();

    clock.advance(15 * DAY_MS);
    const renewed = await fetch(`${server.url}/api/users/me/`, { headers: { cookie } });
    expect(renewed.status).toBe(200);
    const setCookie = renewed.headers.get("set-cookie") ?? "";
    expect(setCookie.split(";")[0]).toBe(cookie);
    const expires = new Date(/Expires=([^;]+)/.exec(setCookie)?.[1] ?? 0).getTime();
    expect(Math.abs(expires - (clock.now().getTime() + 30 * DAY_MS))).toBeLessThan(1000);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Lax/);

    // Bearer callers carry their token themselves: no cookie for them.
    const token = cookie.slice("session=".length);
    clock.advance(16 * DAY_MS);
    const bearer = await fetch(`${server.url}/api/users/me/`, { headers: { authorization: `Bearer ${token}` } });
    expect(bearer.status).toBe(200);
    expect(bearer.headers.get("set-cookie")).toBeNull();
  });
});
