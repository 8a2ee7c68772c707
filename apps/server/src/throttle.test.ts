import { createHash } from "node:crypto";
import { openDatabase } from "@tenantry/db";
import type { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Throttled } from "./domain/errors.js";
import { loadEnv } from "./env.js";
import { itTwoPools } from "./test-support/backend.js";
import { failure } from "./test-support/errors.js";
import { createHarness, type Harness, STRONG_PASSWORD, signUp, unique } from "./test-support/harness.js";
import { THROTTLE_RULES, Throttle } from "./throttle.js";
import { errorDetails } from "./trpc/errors.js";

const BOGUS_TOKEN = "not-a-real-invitation-token-at-all";
const WEAK_PASSWORD = "password";

/**
 * Every test starts here, on the manual clock: 15.4 s into a minute, a
 * five-minute window and an hour, so no window ends inside a burst and each
 * Retry-After is known to the second (the rest of the window, rounded up).
 */
const START = "2026-11-29T10:00:15.400Z";
/** Retry-After at START for a rule whose window is `windowSeconds` long. */
const retryAfterAtStart = (windowSeconds: number) => windowSeconds - 15;

/** Asserts a throttled failure with exactly this Retry-After, in seconds. */
function expectThrottled(error: TRPCError, retryAfter: number): void {
  expect(error.code, error.message).toBe("TOO_MANY_REQUESTS");
  expect(errorDetails(error).retryAfter).toBe(retryAfter);
  expect(error.message).toBe(`Request was throttled. Expected available in ${retryAfter} seconds.`);
}

let ipCounter = 0;
/** A client address no other test uses. */
function freshIp(): string {
  ipCounter += 1;
  return `198.51.${Math.floor(ipCounter / 250)}.${(ipCounter % 250) + 1}`;
}

describe("throttling (THROTTLE=on)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
    expect(h.running.services.throttle.enabled).toBe(true);
  });
  beforeEach(() => {
    h.clock.set(START);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("login per IP: the call after the limit is refused with a Retry-After; other IPs are unaffected", async () => {
    const { limit, windowSeconds } = THROTTLE_RULES.loginPerIp;
    const ip = freshIp();
    // Distinct (unknown) addresses, so only the per-IP rule is in play.
    const allowed = await Promise.all(
      Array.from({ length: limit }, (_, i) =>
        failure(h.call(null, { ip }).auth.login({ email: `nobody${i}@${unique("ip")}.example.com`, password: "x" })),
      ),
    );
    for (const error of allowed) expect(error.code).toBe("BAD_REQUEST");

    const refused = await failure(
      h.call(null, { ip }).auth.login({ email: `someone@${unique("ip")}.example.com`, password: "x" }),
    );
    const retryAfter = retryAfterAtStart(windowSeconds);
    expectThrottled(refused, retryAfter);

    // Another address is not affected.
    const other = await failure(
      h.call(null, { ip: freshIp() }).auth.login({ email: `someone@${unique("ip")}.example.com`, password: "x" }),
    );
    expect(other.code).toBe("BAD_REQUEST");

    // Retry-After is tight: a second before it, still refused (0.6 s left, rounded up); at it, let through.
    h.clock.advance((retryAfter - 1) * 1000);
    expectThrottled(
      await failure(h.call(null, { ip }).auth.login({ email: `late@${unique("ip")}.example.com`, password: "x" })),
      1,
    );
    h.clock.advance(1000);
    const through = await failure(
      h.call(null, { ip }).auth.login({ email: `later@${unique("ip")}.example.com`, password: "x" }),
    );
    expect(through.code).toBe("BAD_REQUEST");
  });

  it("login per email: counted across IPs, however the address is spelled", async () => {
    const { limit, windowSeconds } = THROTTLE_RULES.loginPerEmail;
    // signUp logged in once already: that is the first hit on this email.
    const { adminEmail, tenant } = await signUp(h);
    for (let i = 1; i < limit; i++) {
      const spelled = i % 2 ? ` ${adminEmail.toUpperCase()} ` : adminEmail;
      const error = await failure(h.call(null, { ip: freshIp() }).auth.login({ email: spelled, password: "wrong-pw" }));
      expect(errorDetails(error).fieldErrors).toEqual({
        nonFieldErrors: ["Unable to log in with provided credentials."],
      });
    }
    // Even the right password, from a new address, waits.
    const refused = await failure(
      h.call(null, { ip: freshIp() }).auth.login({ email: adminEmail, password: STRONG_PASSWORD }),
    );
    const retryAfter = retryAfterAtStart(windowSeconds);
    expectThrottled(refused, retryAfter);

    // Another email from an address that just tried is not affected.
    const { adminEmail: otherEmail } = await signUp(h);
    const ok = await h.call(null, { ip: freshIp() }).auth.login({ email: otherEmail, password: STRONG_PASSWORD });
    expect(ok.token).toEqual(expect.any(String));

    h.clock.advance(retryAfter * 1000);
    const login = await h.call(null, { ip: freshIp() }).auth.login({ email: adminEmail, password: STRONG_PASSWORD });
    expect(login.user.tenantId).toBe(tenant.id);
  });

  it("tenant.create per IP", async () => {
    const { limit, windowSeconds } = THROTTLE_RULES.tenantCreatePerIp;
    const ip = freshIp();
    // Refused sign-ups count too (no Argon2 work for a weak password).
    for (let i = 0; i < limit; i++) {
      const error = await failure(
        h.call(null, { ip }).tenant.create({
          name: unique("Weak"),
          adminEmail: `owner@${unique("weak")}.example.com`,
          adminPassword: WEAK_PASSWORD,
        }),
      );
      expect(Object.keys(errorDetails(error).fieldErrors)).toEqual(["adminPassword"]);
    }
    const signUpInput = () => ({
      name: unique("Patient"),
      adminEmail: `owner@${unique("patient")}.example.com`,
      adminPassword: STRONG_PASSWORD,
    });
    const refused = await failure(h.call(null, { ip }).tenant.create(signUpInput()));
    const retryAfter = retryAfterAtStart(windowSeconds);
    expectThrottled(refused, retryAfter);
    // Nothing was created by the refused call.
    const tenants = await h.db.orm.em
      .fork()
      .getConnection()
      .execute("select id from tenants where name like 'Patient-%'");
    expect(tenants).toEqual([]);

    expect(await h.call(null, { ip: freshIp() }).tenant.create(signUpInput())).toMatchObject({
      slug: expect.any(String),
    });

    h.clock.advance(retryAfter * 1000);
    expect(await h.call(null, { ip }).tenant.create(signUpInput())).toMatchObject({ slug: expect.any(String) });
  });

  it("invite.accept per IP; a refused accept does not spend the invitation", async () => {
    const { limit, windowSeconds } = THROTTLE_RULES.acceptPerIp;
    const { admin } = await signUp(h);
    const invitation = await admin.invite.create({ email: `${unique("patient")}@example.com`, role: "VIEWER" });
    const ip = freshIp();
    for (let i = 0; i < limit; i++) {
      const error = await failure(
        h.call(null, { ip }).invite.accept({ token: BOGUS_TOKEN, password: STRONG_PASSWORD }),
      );
      expect(errorDetails(error).fieldErrors).toEqual({ token: ["Invalid or revoked invitation token."] });
    }
    const refused = await failure(
      h.call(null, { ip }).invite.accept({ token: invitation.token, password: STRONG_PASSWORD }),
    );
    const retryAfter = retryAfterAtStart(windowSeconds);
    expectThrottled(refused, retryAfter);
    expect((await admin.invite.list()).find((i) => i.id === invitation.id)?.status).toBe("pending");

    h.clock.advance(retryAfter * 1000);
    const user = await h.call(null, { ip }).invite.accept({ token: invitation.token, password: STRONG_PASSWORD });
    expect(user.roles).toEqual(["VIEWER"]);
  });

  it("counts concurrent calls exactly: of 30 at once, 20 get through", async () => {
    const { limit, windowSeconds } = THROTTLE_RULES.acceptPerIp;
    const ip = freshIp();
    const errors = await Promise.all(
      Array.from({ length: limit + 10 }, () =>
        failure(h.call(null, { ip }).invite.accept({ token: BOGUS_TOKEN, password: STRONG_PASSWORD })),
      ),
    );
    expect(errors.filter((e) => e.code === "BAD_REQUEST")).toHaveLength(limit);
    const throttled = errors.filter((e) => e.code === "TOO_MANY_REQUESTS");
    expect(throttled).toHaveLength(10);
    for (const error of throttled) expectThrottled(error, retryAfterAtStart(windowSeconds));
  });

  itTwoPools("the counters live in the database: another Throttle on the same database sees the hits", async () => {
    const rule = THROTTLE_RULES.acceptPerIp;
    // Another service instance on the same ORM, and one with a pool of its own (like another process).
    const sameOrm = new Throttle(h.db.orm, h.clock, true);
    const otherDb = await openDatabase(h.testDb.target, { poolSize: 2 });
    try {
      const otherProcess = new Throttle(otherDb.orm, h.clock, true);

      // Hits through the procedures are seen by both others.
      const ip = freshIp();
      for (let i = 0; i < rule.limit - 1; i++) {
        await failure(h.call(null, { ip }).invite.accept({ token: BOGUS_TOKEN, password: STRONG_PASSWORD }));
      }
      await otherProcess.hit(rule, ip); // the limit-th hit: allowed
      const fromSame = await sameOrm.hit(rule, ip).catch((e: unknown) => e);
      expect(fromSame).toBeInstanceOf(Throttled);
      const fromOther = await otherProcess.hit(rule, ip).catch((e: unknown) => e);
      expect(fromOther).toBeInstanceOf(Throttled);
      expect((fromSame as Throttled).retryAfterSeconds).toBe(retryAfterAtStart(rule.windowSeconds));
      expect((fromOther as Throttled).retryAfterSeconds).toBe(retryAfterAtStart(rule.windowSeconds));

      // Hits through the others are seen by the procedures.
      const ip2 = freshIp();
      for (let i = 0; i < rule.limit / 2; i++) await sameOrm.hit(rule, ip2);
      for (let i = 0; i < rule.limit / 2; i++) await otherProcess.hit(rule, ip2);
      expectThrottled(
        await failure(h.call(null, { ip: ip2 }).invite.accept({ token: BOGUS_TOKEN, password: STRONG_PASSWORD })),
        retryAfterAtStart(rule.windowSeconds),
      );
      // And the rules are separate counters: the same address may still log in.
      const login = await failure(h.call(null, { ip: ip2 }).auth.login({ email: "x@example.com", password: "x" }));
      expect(login.code).toBe("BAD_REQUEST");
    } finally {
      await otherDb.close();
    }
  });

  it("keeps only a digest of the subject (no address, no email) in the counters table", async () => {
    const ip = freshIp();
    const email = `${unique("digest")}@example.com`;
    await failure(h.call(null, { ip }).auth.login({ email, password: "x" }));
    const rows = await h.db.orm.em
      .fork()
      .getConnection()
      .execute<{ key: string }[]>("select key from throttle_counters");
    // This login's two counters are there, under the SHA-256 of their subjects.
    const digest = (subject: string) => createHash("sha256").update(subject).digest("base64url");
    expect(rows.map((row) => row.key)).toEqual(
      expect.arrayContaining([`auth.login/ip:${digest(ip)}`, `auth.login/email:${digest(email)}`]),
    );
    const keys = JSON.stringify(rows);
    expect(keys).not.toContain(email);
    expect(keys).not.toContain(ip);
  });
});

describe("THROTTLE=off", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ throttle: false });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("is read from the environment", () => {
    expect(loadEnv({ THROTTLE: "off" }).throttle).toBe(false);
    expect(loadEnv({ THROTTLE: "on" }).throttle).toBe(true);
    expect(loadEnv({}).throttle).toBe(true);
    expect(() => loadEnv({ THROTTLE: "maybe" })).toThrow(/THROTTLE/);
  });

  it("lets every call through and counts nothing", async () => {
    expect(h.running.services.throttle.enabled).toBe(false);
    const ip = freshIp();
    const accepts = await Promise.all(
      Array.from({ length: THROTTLE_RULES.acceptPerIp.limit + 5 }, () =>
        failure(h.call(null, { ip }).invite.accept({ token: BOGUS_TOKEN, password: STRONG_PASSWORD })),
      ),
    );
    expect(accepts.map((e) => e.code)).toEqual(Array(accepts.length).fill("BAD_REQUEST"));
    for (let i = 0; i <= THROTTLE_RULES.tenantCreatePerIp.limit; i++) {
      const error = await failure(
        h.call(null, { ip }).tenant.create({
          name: unique("Weak"),
          adminEmail: `owner@${unique("weak")}.example.com`,
          adminPassword: WEAK_PASSWORD,
        }),
      );
      expect(error.code).toBe("BAD_REQUEST");
    }
    expect(
      await h.call(null, { ip }).tenant.create({
        name: unique("Unthrottled"),
        adminEmail: `owner@${unique("free")}.example.com`,
        adminPassword: STRONG_PASSWORD,
      }),
    ).toMatchObject({ slug: expect.any(String) });
    const disabled = new Throttle(h.db.orm, h.clock, false);
    for (let i = 0; i < 50; i++) await disabled.hit(THROTTLE_RULES.loginPerEmail, "someone@example.com");
    expect(await h.db.orm.em.fork().getConnection().execute("select key from throttle_counters")).toEqual([]);
  });
});
