import { passwordVerificationCount } from "@tenantry/auth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FieldErrors } from "./domain/errors.js";
import { LOGIN_VERIFICATIONS } from "./domain/sessions.js";
import { createSuperuser } from "./domain/users.js";
import { failure, fieldErrorsOf } from "./test-support/errors.js";
import { type Caller, createHarness, type Harness, STRONG_PASSWORD, signUp, unique } from "./test-support/harness.js";
import { errorDetails } from "./trpc/errors.js";

const LOGIN_FAILED = { nonFieldErrors: ["Unable to log in with provided credentials."] };
const NAME_THE_TENANT = {
  tenant: ["This email has an account in more than one tenant. Name the tenant (its id or slug) to log in."],
};

/**
 * Login without a tenant across accounts that share an address: the work per
 * attempt is constant, and tenant accounts never shadow platform staff.
 */
describe("login across accounts sharing an email", () => {
  let h: Harness;
  let tenants: Awaited<ReturnType<typeof signUp>>[];
  beforeAll(async () => {
    h = await createHarness({ throttle: false });
    tenants = [];
    for (let i = 0; i <= LOGIN_VERIFICATIONS + 1; i++) tenants.push(await signUp(h));
  });
  afterAll(async () => {
    await h?.close();
  });

  function tenant(index: number) {
    const found = tenants[index];
    if (!found) throw new Error(`no tenant ${index}`);
    return found;
  }

  /** An account for `email` in the admin's tenant, with its own password; a minute younger than the last. */
  async function account(admin: Caller, email: string, password: string) {
    h.clock.advance(60_000);
    const invitation = await admin.invite.create({ email, role: null });
    return h.call().invite.accept({ token: invitation.token, password });
  }

  async function staff(email: string, password: string) {
    h.clock.advance(60_000);
    return createSuperuser(
      {
        em: h.db.orm.em.fork(),
        clock: h.clock,
        audit: { actor: { type: "cli" }, client: { ip: null, userAgent: "vitest" } },
      },
      { email, password },
    );
  }

  interface Attempt {
    verifications: number;
    userId: string | null;
    errors: FieldErrors;
  }

  /** The Argon2 verifications one login attempt ran, and how it ended. */
  async function attempt(input: { email: string; password: string; tenant?: string }): Promise<Attempt> {
    const before = passwordVerificationCount();
    const outcome = await h
      .call()
      .auth.login(input)
      .then(
        (ok) => ({ userId: ok.user.id as string | null, errors: {} }),
        (error) => ({ userId: null, errors: errorDetails(error).fieldErrors }),
      );
    return { verifications: passwordVerificationCount() - before, ...outcome };
  }

  const passwordOf = (n: number) => `Account-${n}-secret-Pw`;

  it("runs the same number of Argon2id verifications for 0, 1, 2, 3 and 4 accounts under one email", async () => {
    const counts: Record<string, number[]> = {};
    const outcomes: { size: number; ids: string[]; wrong: Attempt; right: Attempt; named: Attempt }[] = [];
    for (let size = 0; size <= LOGIN_VERIFICATIONS + 2; size++) {
      const email = `${unique("shared")}@count.example.com`;
      const ids: string[] = [];
      for (let n = 0; n < size; n++) {
        ids.push((await account(tenant(n % tenants.length).admin, email, passwordOf(n))).id);
      }
      const wrong = await attempt({ email, password: "Not-the-password-1" });
      const right = await attempt({ email, password: passwordOf(0) });
      const named = await attempt({ email, password: passwordOf(0), tenant: tenant(0).tenant.slug });
      counts[`${size} accounts`] = [wrong.verifications, right.verifications, named.verifications];
      outcomes.push({ size, ids, wrong, right, named });
    }
    const constant = Array(3).fill(LOGIN_VERIFICATIONS);
    expect(counts).toEqual({
      "0 accounts": constant,
      "1 accounts": constant,
      "2 accounts": constant,
      "3 accounts": constant,
      "4 accounts": constant,
    });

    expect(outcomes).toHaveLength(5);
    for (const { size, ids, wrong, right, named } of outcomes) {
      expect(wrong, `${size} accounts`).toMatchObject({ userId: null, errors: LOGIN_FAILED });
      if (size === 0) {
        expect(right.errors).toEqual(LOGIN_FAILED);
        expect(named.errors).toEqual(LOGIN_FAILED);
        continue;
      }
      expect(named.userId, `${size} accounts`).toBe(ids[0]);
      // Up to LOGIN_VERIFICATIONS accounts, the one whose password matches logs in.
      if (size <= LOGIN_VERIFICATIONS) expect(right.userId, `${size} accounts`).toBe(ids[0]);
      else expect(right, `${size} accounts`).toMatchObject({ userId: null, errors: NAME_THE_TENANT });
    }
  });

  it("beyond the accounts it checks, asks for the tenant only when a checked password matches", async () => {
    const email = `${unique("many")}@count.example.com`;
    const users = [];
    for (let n = 0; n <= LOGIN_VERIFICATIONS; n++) users.push(await account(tenant(n).admin, email, passwordOf(n)));
    // The oldest accounts are checked; a password matching one of them cannot tell which account is meant.
    for (let n = 0; n < LOGIN_VERIFICATIONS; n++) {
      expect(await attempt({ email, password: passwordOf(n) })).toEqual({
        verifications: LOGIN_VERIFICATIONS,
        userId: null,
        errors: NAME_THE_TENANT,
      });
    }
    // The youngest is not checked without its tenant: it fails like a wrong password, and logs in naming it.
    const youngest = LOGIN_VERIFICATIONS;
    expect(await attempt({ email, password: passwordOf(youngest) })).toEqual({
      verifications: LOGIN_VERIFICATIONS,
      userId: null,
      errors: LOGIN_FAILED,
    });
    expect(await attempt({ email, password: passwordOf(youngest), tenant: tenant(youngest).tenant.id })).toMatchObject({
      verifications: LOGIN_VERIFICATIONS,
      userId: users[youngest]?.id,
    });
  });

  describe("a superuser whose email also has tenant accounts", () => {
    it("logs in as the superuser without `tenant`, even with the same password as the tenant account", async () => {
      const email = `${unique("staff")}@platform.example.com`;
      const member = await account(tenant(0).admin, email, STRONG_PASSWORD);
      const platform = await staff(email, STRONG_PASSWORD);

      const asStaff = await h.call().auth.login({ email, password: STRONG_PASSWORD });
      expect(asStaff.user).toMatchObject({ id: platform.id, isSuperuser: true, tenantId: null });
      expect((await h.call(asStaff.token).user.me()).isSuperuser).toBe(true);

      const asMember = await h.call().auth.login({ email, password: STRONG_PASSWORD, tenant: tenant(0).tenant.slug });
      expect(asMember.user).toMatchObject({ id: member.id, isSuperuser: false, tenantId: tenant(0).tenant.id });
    });

    it("with distinct passwords: each logs into its own account; `tenant` considers only that tenant's account", async () => {
      const email = `${unique("staff")}@platform.example.com`;
      const staffPassword = "Platform-staff-Pw-77";
      const platform = await staff(email, staffPassword);
      const member = await account(tenant(1).admin, email, STRONG_PASSWORD);

      expect(await attempt({ email, password: staffPassword })).toEqual({
        verifications: LOGIN_VERIFICATIONS,
        userId: platform.id,
        errors: {},
      });
      expect(await attempt({ email, password: STRONG_PASSWORD })).toEqual({
        verifications: LOGIN_VERIFICATIONS,
        userId: member.id,
        errors: {},
      });
      expect(await attempt({ email, password: STRONG_PASSWORD, tenant: tenant(1).tenant.id })).toEqual({
        verifications: LOGIN_VERIFICATIONS,
        userId: member.id,
        errors: {},
      });
      // The superuser's password names no tenant account: with `tenant`, it is a wrong password.
      expect(await attempt({ email, password: staffPassword, tenant: tenant(1).tenant.id })).toEqual({
        verifications: LOGIN_VERIFICATIONS,
        userId: null,
        errors: LOGIN_FAILED,
      });
    });

    it("fails a wrong password identically with and without `tenant`, and like an unknown email", async () => {
      const email = `${unique("staff")}@platform.example.com`;
      await staff(email, STRONG_PASSWORD);
      await account(tenant(2).admin, email, STRONG_PASSWORD);
      const errors = await Promise.all(
        [
          { email, password: "Wrong-password-42" },
          { email, password: "Wrong-password-42", tenant: tenant(2).tenant.slug },
          { email: `${unique("nobody")}@platform.example.com`, password: "Wrong-password-42" },
        ].map((input) => failure(h.call().auth.login(input))),
      );
      for (const error of errors) {
        expect(error.code).toBe("BAD_REQUEST");
        expect(error.message).toBe(errors[0]?.message);
        expect(errorDetails(error)).toEqual(errorDetails(errors[0] as (typeof errors)[number]));
        expect(fieldErrorsOf(error)).toEqual(LOGIN_FAILED);
      }
    });

    it("stays first among the accounts checked, however many tenant accounts share the address", async () => {
      const email = `${unique("staff")}@platform.example.com`;
      for (let n = 0; n <= LOGIN_VERIFICATIONS; n++) await account(tenant(n).admin, email, STRONG_PASSWORD);
      const platform = await staff(email, STRONG_PASSWORD);
      expect(await attempt({ email, password: STRONG_PASSWORD })).toEqual({
        verifications: LOGIN_VERIFICATIONS,
        userId: platform.id,
        errors: {},
      });
    });
  });
});
