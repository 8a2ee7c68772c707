import { describe, expectTypeOf, test } from "vitest";
import {
  type CreatedInvitation,
  type CreatedTenant,
  createTenantryClient,
  type Invitation,
  type LoginResult,
  type Role,
  type RoleAssignment,
  type TenantryClient,
  type TenantryError,
  type TenantryErrorCode,
  type TenantryInputs,
  type User,
} from "../src/index.js";

// These are compile-time checks: `tsc --noEmit -p .` fails if an expectation or a
// `@ts-expect-error` (a call that must not compile) stops holding. The calls are
// inside a function that never runs.
function neverCalled(client: TenantryClient) {
  // @ts-expect-error an unknown role
  client.role.grant({ userId: "u", role: "OWNER" });
  // @ts-expect-error roles are case-sensitive
  client.invite.create({ email: "a@b.test", role: "admin" });
  // @ts-expect-error a missing required field (adminPassword)
  client.tenant.create({ name: "Acme", adminEmail: "a@acme.test" });
  // @ts-expect-error a wrong field name (admin_email)
  client.tenant.create({ name: "Acme", admin_email: "a@acme.test", adminEmail: "a@acme.test", adminPassword: "x" });
  // @ts-expect-error a wrong type
  client.invite.revoke({ id: 42 });
  // @ts-expect-error a missing argument
  client.invite.accept();
  // @ts-expect-error no-input procedures take options second
  client.user.me({ signal: AbortSignal.abort() });
  // @ts-expect-error an unknown procedure
  client.user.delete({ id: "u" });
  // @ts-expect-error an unknown status
  client.invite.list({ status: "open" });
}

describe("types", () => {
  test("outputs are the server's, as plain data", () => {
    expectTypeOf(neverCalled).toBeFunction();
    const client = createTenantryClient({ baseUrl: "http://x.test" });
    expectTypeOf(client.tenant.create).returns.resolves.toEqualTypeOf<CreatedTenant>();
    expectTypeOf<CreatedTenant>().toEqualTypeOf<{
      id: string;
      name: string;
      slug: string;
      createdAt: string;
      adminUserId: string;
    }>();
    expectTypeOf(client.auth.login).returns.resolves.toEqualTypeOf<LoginResult>();
    expectTypeOf<LoginResult>().toEqualTypeOf<{ token: string; expiresAt: string; user: User }>();
    expectTypeOf<User>().toEqualTypeOf<{
      id: string;
      email: string;
      firstName: string;
      lastName: string;
      tenantId: string | null;
      roles: ("ADMIN" | "ANALYST" | "VIEWER")[];
      isSuperuser: boolean;
      isActive: boolean;
      dateJoined: string;
    }>();
    expectTypeOf(client.invite.accept).returns.resolves.toEqualTypeOf<User>();
    expectTypeOf(client.invite.create).returns.resolves.toEqualTypeOf<CreatedInvitation>();
    expectTypeOf<Omit<CreatedInvitation, "token">>().toEqualTypeOf<Invitation>();
    expectTypeOf<CreatedInvitation["token"]>().toEqualTypeOf<string>();
    expectTypeOf<Invitation>().not.toHaveProperty("token");
    expectTypeOf(client.role.grant).returns.resolves.toEqualTypeOf<RoleAssignment>();
    expectTypeOf(client.user.list).returns.resolves.toEqualTypeOf<User[]>();
    expectTypeOf(client.auth.logout).returns.resolves.toEqualTypeOf<void>();
    expectTypeOf(client.invite.revoke).returns.resolves.toEqualTypeOf<void>();
  });

  test("roles are a literal union; inputs are exact", () => {
    expectTypeOf<Role>().toEqualTypeOf<"ADMIN" | "ANALYST" | "VIEWER">();
    expectTypeOf<TenantryInputs["invite"]["create"]>().toEqualTypeOf<{
      tenant?: string;
      email: string;
      role?: Role | null;
    }>();
    expectTypeOf<TenantryInputs["invite"]["accept"]>().toEqualTypeOf<{
      token: string;
      password: string;
      firstName?: string;
      lastName?: string;
    }>();
    const client = createTenantryClient({ baseUrl: "http://x.test" });
    expectTypeOf(client.user.me).parameter(0).toEqualTypeOf<undefined>();
    expectTypeOf(client.user.me).parameter(1).toEqualTypeOf<{ signal?: AbortSignal } | undefined>();
  });

  test("errors", () => {
    expectTypeOf<TenantryError["fieldErrors"]>().toEqualTypeOf<Record<string, string[]>>();
    expectTypeOf<TenantryError["retryAfter"]>().toEqualTypeOf<number | undefined>();
    expectTypeOf<"NETWORK_ERROR">().toExtend<TenantryErrorCode>();
    expectTypeOf<"BAD_REQUEST">().toExtend<TenantryErrorCode>();
  });
});
