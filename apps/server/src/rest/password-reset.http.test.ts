import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PasswordResetEmail } from "../mail/hook.js";
import { addMemberRest, PASSWORD, RestClient, signUpRest, statusOf, uniqueName } from "../test-support/rest.js";
import { startTestServer, type TestServer } from "../test-support/server.js";

const REQUESTED = { detail: "If the address has an account, a reset link has been sent." };
const NEW_PASSWORD = "wire-Reset-passphrase-6";

function tokenOf(email: PasswordResetEmail): string {
  return new URLSearchParams(new URL(email.resetUrl).hash.slice(1)).get("token") ?? "";
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Password reset over HTTP, as API.md ("Passwords and sessions") writes it. */
describe("REST: password reset", () => {
  let server: TestServer;
  let api: RestClient;
  const sent: PasswordResetEmail[] = [];

  beforeAll(async () => {
    server = await startTestServer({
      env: { THROTTLE: "off", APP_URL: "https://app.example.com" },
      overrides: { resetHook: (email) => void sent.push(email) },
    });
    api = new RestClient(server.url);
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** Waits for the email the background worker sends for `to` (delivery is after commit, off the request). */
  async function emailTo(to: string, after: number): Promise<PasswordResetEmail> {
    for (let pass = 0; pass < 50; pass++) {
      const found = sent.slice(after).find((email) => email.to === to);
      if (found) return found;
      await server.services.delivery.runOnce();
    }
    throw new Error(`no reset email to ${to}`);
  }

  it("request: 202 with the one body for a known and an unknown address; confirm: 204, sessions end, token spent", async () => {
    const admin = await signUpRest(api);
    const email = `${uniqueName("wire")}@example.com`;
    const member = await addMemberRest(api, admin.adminToken, email, "VIEWER");
    const before = sent.length;
    const known = await api.post("/api/auth/password/reset/", { email, tenant: admin.tenant.slug });
    expect([known.status, known.body], statusOf(known)).toEqual([202, REQUESTED]);
    const unknown = await api.post("/api/auth/password/reset/", { email: `${uniqueName("nobody")}@example.com` });
    expect([unknown.status, unknown.body, unknown.text]).toEqual([202, REQUESTED, known.text]);
    const mail = await emailTo(email, before);
    expect(mail.resetUrl).toBe(`https://app.example.com/reset-password#token=${tokenOf(mail)}`);
    expect(sent.slice(before)).toHaveLength(1);

    const weak = await api.post("/api/auth/password/reset/confirm/", { token: tokenOf(mail), new_password: "1234" });
    expect(weak.status).toBe(400);
    expect(Object.keys(weak.body)).toEqual(["new_password"]);

    const done = await api.post("/api/auth/password/reset/confirm/", {
      token: tokenOf(mail),
      new_password: NEW_PASSWORD,
    });
    expect([done.status, done.text], statusOf(done)).toEqual([204, ""]);
    expect((await api.get("/api/users/me/", { token: member.token })).status).toBe(401);
    const login = await api.post("/api/auth/login/", { email, password: NEW_PASSWORD });
    expect(login.status, statusOf(login)).toBe(200);
    const old = await api.post("/api/auth/login/", { email, password: PASSWORD });
    expect(old.status).toBe(400);

    const spent = await api.post("/api/auth/password/reset/confirm/", {
      token: tokenOf(mail),
      new_password: NEW_PASSWORD,
    });
    expect([spent.status, spent.body]).toEqual([
      400,
      { token: ["This password reset link is invalid or has expired. Request a new one."] },
    ]);
    const missing = await api.post("/api/auth/password/reset/", {});
    expect([missing.status, Object.keys(missing.body)]).toEqual([400, ["email"]]);
  });

  it("answers a known and an unknown address in comparable time (medians of 30 each, interleaved)", async () => {
    const admin = await signUpRest(api);
    const email = `${uniqueName("timed")}@example.com`;
    await addMemberRest(api, admin.adminToken, email, "VIEWER");
    const time = async (address: string) => {
      const started = process.hrtime.bigint();
      const reply = await api.post("/api/auth/password/reset/", { email: address });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      expect(reply.status).toBe(202);
      return ms;
    };
    // Warm up both paths.
    for (let i = 0; i < 5; i++) {
      await time(email);
      await time(`${uniqueName("warm")}@example.com`);
    }
    const known: number[] = [];
    const unknown: number[] = [];
    // Alternating which goes first: a known address's email is sent in the background right after its answer.
    for (let i = 0; i < 30; i++) {
      if (i % 2) {
        known.push(await time(email));
        unknown.push(await time(`${uniqueName("ghost")}@example.com`));
      } else {
        unknown.push(await time(`${uniqueName("ghost")}@example.com`));
        known.push(await time(email));
      }
    }
    const [k, u] = [median(known), median(unknown)];
    process.stdout.write(
      `password reset request medians over HTTP: known ${k.toFixed(2)} ms, unknown ${u.toFixed(2)} ms\n`,
    );
    // Same statements and the same writes either way: within 2 ms or 35 % of each other.
    expect(Math.abs(k - u), `known ${k} ms, unknown ${u} ms`).toBeLessThanOrEqual(Math.max(2, 0.35 * Math.max(k, u)));
  });
});

describe("REST: password reset throttling", () => {
  let server: TestServer;
  let api: RestClient;

  beforeAll(async () => {
    server = await startTestServer();
    api = new RestClient(server.url);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("five requests an hour per address, then 429 with the same wording as login's", async () => {
    const email = `${uniqueName("hammer")}@example.com`;
    for (let i = 0; i < 5; i++) {
      expect((await api.post("/api/auth/password/reset/", { email })).status).toBe(202);
    }
    const limited = await api.post("/api/auth/password/reset/", { email });
    expect(limited.status).toBe(429);
    expect(limited.body.detail).toMatch(/^Request was throttled\. Expected available in \d+ seconds\.$/);
    expect((await api.post("/api/auth/password/reset/", { email: `other-${email}` })).status).toBe(202);
  });
});
