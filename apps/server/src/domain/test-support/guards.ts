import type { TRPCError } from "@trpc/server";
import { expect } from "vitest";
import { failure, fieldErrorsOf } from "../../test-support/errors.js";
import type { Caller, Harness } from "../../test-support/harness.js";
import type { FieldErrors } from "../errors.js";

/** What the guard tests (domain/*-guards.test.ts) share: API.md's messages, the 400 assertions, a few queries. */

export const TOO_SHORT = "This password is too short. It must contain at least 8 characters.";
export const TOO_LONG = "This password is too long. It must contain at most 1024 characters.";
export const NUMERIC = "This password is entirely numeric.";
export const COMMON = "This password is too common.";
export const SIMILAR_EMAIL = "The password is too similar to the email.";
export const TENANT_NAME_TAKEN = "A tenant with this name already exists.";
export const EMAIL_IS_MEMBER = "A user with this email already exists in this tenant.";
export const TOKEN_INVALID = "Invalid or revoked invitation token.";
export const TOKEN_EXPIRED = "This invitation has expired.";
export const TOKEN_ACCEPTED = "This invitation has already been accepted.";
export const LOGIN_FAILED = "Unable to log in with provided credentials.";
export const NOT_A_STRING = "Not a valid string.";
export const NOT_A_UUID = "Must be a valid UUID.";
export const NOT_NULL = "This field may not be null.";
export const NOT_AN_INTEGER = "A valid integer is required.";
export const SLUG = /^[a-z0-9]+(-[a-z0-9]+)*$/;
export const SESSION_WRITE = /^\s*update\s+"?sessions"?/i;
/** Asserts a 400 with exactly these field errors. */
export async function expectFieldErrors(promise: Promise<unknown>, expected: FieldErrors): Promise<TRPCError> {
  const error = await failure(promise);
  expect(error.code).toBe("BAD_REQUEST");
  expect(fieldErrorsOf(error)).toEqual(expected);
  return error;
}

/** Asserts a 400 that names `field`, whatever its message. */
export async function expectFieldNamed(promise: Promise<unknown>, field: string): Promise<FieldErrors> {
  const error = await failure(promise);
  expect(error.code).toBe("BAD_REQUEST");
  const fields = fieldErrorsOf(error);
  expect(Object.keys(fields)).toContain(field);
  return fields;
}

/** Queries over the harness the calling file opens (`harness()` is read at call time, after its `beforeAll`). */
export function guardQueries(harness: () => Harness) {
  async function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
    return harness().db.orm.em.fork().getConnection().execute<T[]>(query, params);
  }

  async function invitationStatus(admin: Caller, id: string): Promise<string | undefined> {
    return (await admin.invite.list()).find((invitation) => invitation.id === id)?.status;
  }

  async function sessionExpiresAt(token: string): Promise<number> {
    const [id] = token.split(".");
    const rows = await sql<{ expires_at: Date | string }>("select expires_at from sessions where id = ?", [id]);
    expect(rows).toHaveLength(1);
    return new Date((rows[0] as { expires_at: Date | string }).expires_at).getTime();
  }

  return { sql, invitationStatus, sessionExpiresAt };
}
