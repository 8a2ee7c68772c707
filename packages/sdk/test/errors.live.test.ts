import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ManualClock } from "../../../apps/server/src/domain/clock.js";
import { startTestServer, type TestServer } from "../../../apps/server/src/test-support/server.js";
import { createTenantryClient, type TenantryClient, TenantryError } from "../src/index.js";

const PASSWORD = "correct horse battery staple";
const NO_SUCH_ID = "00000000-0000-4000-8000-000000000000";

async function failure(promise: Promise<unknown>): Promise<TenantryError> {
  const error = await promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TenantryError);
  return error as TenantryError;
}

describe("errors from a live server", () => {
  let server: TestServer;
  let anonymous: TenantryClient;
  let admin: TenantryClient;
  let adminUserId: string;
  beforeAll(async () => {
    server = await startTestServer({ env: { THROTTLE: "off" } });
    anonymous = createTenantryClient({ baseUrl: server.url });
    const tenant = await anonymous.tenant.create({
      name: "Acme",
      adminEmail: "owner@acme.test",
      adminPassword: PASSWORD,
    });
    adminUserId = tenant.adminUserId;
    const { token } = await anonymous.auth.login({ email: "owner@acme.test", password: PASSWORD });
    admin = createTenantryClient({ baseUrl: server.url, token });
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("invalid input: BAD_REQUEST with messages under the input's camelCase names", async () => {
    const error = await failure(
      anonymous.tenant.create({ name: " ", adminEmail: "not-an-email", adminPassword: PASSWORD }),
    );
    expect(error).toMatchObject({ code: "BAD_REQUEST", status: 400, path: "tenant.create" });
    expect(error.fieldErrors).toEqual({
      name: ["This field may not be blank."],
      adminEmail: ["Enter a valid email address."],
    });
    expect(error.message).toContain("adminEmail: Enter a valid email address.");
  });

  test("a rule of the domain: the password policy and a taken name, by field", async () => {
    const weak = await failure(
      anonymous.tenant.create({ name: "Other", adminEmail: "a@other.test", adminPassword: "12345678" }),
    );
    expect(weak.code).toBe("BAD_REQUEST");
    expect(Object.keys(weak.fieldErrors)).toEqual(["adminPassword"]);
    const taken = await failure(
      anonymous.tenant.create({ name: "ACME", adminEmail: "b@other.test", adminPassword: PASSWORD }),
    );
    expect(Object.keys(taken.fieldErrors)).toEqual(["name"]);
  });

  test("a failed login is a nonFieldErrors message", async () => {
    const error = await failure(anonymous.auth.login({ email: "owner@acme.test", password: "wrong password!" }));
    expect(error).toMatchObject({
      code: "BAD_REQUEST",
      status: 400,
      fieldErrors: { nonFieldErrors: ["Unable to log in with provided credentials."] },
    });
  });

  test("UNAUTHORIZED without a token and with a bad one, saying which", async () => {
    const missing = await failure(anonymous.user.me());
    expect(missing).toMatchObject({ code: "UNAUTHORIZED", status: 401, authentication: "missing", fieldErrors: {} });
    const bogus = createTenantryClient({ baseUrl: server.url, token: "not-a-session" });
    const invalid = await failure(bogus.user.list());
    expect(invalid).toMatchObject({ code: "UNAUTHORIZED", status: 401, authentication: "invalid" });
  });

  test("NOT_FOUND for a tenant that does not exist", async () => {
    const error = await failure(admin.tenant.get({ id: NO_SUCH_ID }));
    expect(error).toMatchObject({ code: "NOT_FOUND", status: 404, message: "Not found.", fieldErrors: {} });
  });

  test("role guards: an unknown user (userId), a role held already (nonFieldErrors), an unknown role (role)", async () => {
    const noUser = await failure(admin.role.grant({ userId: NO_SUCH_ID, role: "VIEWER" }));
    expect(noUser.fieldErrors).toEqual({ userId: [`Invalid pk "${NO_SUCH_ID}" - object does not exist.`] });
    const held = await failure(admin.role.grant({ userId: adminUserId, role: "ADMIN" }));
    expect(held.fieldErrors).toEqual({ nonFieldErrors: [expect.any(String)] });
    // A JavaScript caller can still send anything; the server's answer arrives intact.
    const role = "OWNER" as unknown as "ADMIN";
    const unknownRole = await failure(admin.role.grant({ userId: adminUserId, role }));
    expect(unknownRole.fieldErrors).toEqual({ role: ['"OWNER" is not a valid choice.'] });
    const lastAdmin = (await admin.role.list({ role: "ADMIN" }))[0];
    const lockout = await failure(admin.role.revoke({ id: lastAdmin?.id ?? NO_SUCH_ID }));
    expect(lockout).toMatchObject({ code: "BAD_REQUEST", status: 400 });
  });

  test("invite guards: a member's email (email), a bad token (token)", async () => {
    const member = await failure(admin.invite.create({ email: "owner@acme.test" }));
    expect(Object.keys(member.fieldErrors)).toEqual(["email"]);
    const bad = await failure(anonymous.invite.accept({ token: "no-such-token", password: PASSWORD }));
    expect(Object.keys(bad.fieldErrors)).toEqual(["token"]);
  });

  test("a baseUrl that is not a Tenantry server: NOT_FOUND with status 404, not retried", async () => {
    let requests = 0;
    const wrong = createTenantryClient({
      baseUrl: `${server.url}/nowhere`,
      fetch: (url, init) => {
        requests++;
        return fetch(url, init);
      },
    });
    const error = await failure(wrong.user.me());
    expect(error).toMatchObject({ code: "NOT_FOUND", status: 404 });
    expect(requests).toBe(1);
  });
});

describe("throttling", () => {
  let server: TestServer;
  beforeAll(async () => {
    // A clock that stands still at the start of a window: no window ends inside the burst.
    server = await startTestServer({ env: { THROTTLE: "on" }, overrides: { clock: new ManualClock() } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("past the login limit for one email: TOO_MANY_REQUESTS with retryAfter", async () => {
    const client = createTenantryClient({ baseUrl: server.url });
    const outcomes: TenantryError[] = [];
    // The per-email rule allows 10 logins in 5 minutes.
    for (let i = 0; i < 11; i++) {
      outcomes.push(await failure(client.auth.login({ email: "nobody@acme.test", password: "wrong password!" })));
    }
    expect(outcomes.slice(0, 10).map((e) => e.code)).toEqual(Array(10).fill("BAD_REQUEST"));
    const throttled = outcomes[10];
    expect(throttled).toMatchObject({ code: "TOO_MANY_REQUESTS", status: 429, fieldErrors: {} });
    expect(throttled?.retryAfter).toBe(300);
    expect(throttled?.message).toBe("Request was throttled. Expected available in 300 seconds.");
  });
});

describe("network failures", () => {
  /** A loopback port nothing listens on. */
  async function closedPort(): Promise<number> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const address = probe.address();
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    if (typeof address !== "object" || !address) throw new Error("no port");
    return address.port;
  }

  test("a refused connection: queries retry with backoff, then NETWORK_ERROR; mutations fail at once", async () => {
    const port = await closedPort();
    let requests = 0;
    const waits: number[] = [];
    const client = createTenantryClient({
      baseUrl: `http://127.0.0.1:${port}`,
      fetch: (url, init) => {
        requests++;
        return fetch(url, init);
      },
      retry: {
        retries: 2,
        sleep: async (ms) => {
          waits.push(ms);
        },
      },
    });
    const query = await failure(client.user.me());
    expect(query).toMatchObject({ code: "NETWORK_ERROR", status: 0, path: "user.me" });
    expect(requests).toBe(3);
    expect(waits).toEqual([250, 500]);

    requests = 0;
    const mutation = await failure(client.auth.login({ email: "a@b.test", password: PASSWORD }));
    expect(mutation).toMatchObject({ code: "NETWORK_ERROR", status: 0 });
    expect(requests).toBe(1);
  });
});
