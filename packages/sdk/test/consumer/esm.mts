// A consumer of the packed @tenantry/sdk, as an ES module. The packaging test
// installs the tarball into a temporary app outside the workspace, compiles
// this with strict settings (skipLibCheck: false), then runs it against a live
// server (TENANTRY_URL). It exits non-zero if anything is off.
import assert from "node:assert/strict";
import {
  type CreatedTenant,
  createTenantryClient,
  type Invitation,
  type Role,
  type TenantryClient,
  TenantryError,
  type TenantryErrorCode,
  type User,
} from "@tenantry/sdk";

const baseUrl = process.env.TENANTRY_URL;
if (!baseUrl) throw new Error("TENANTRY_URL is not set");
const password = "correct horse battery staple";
const done: string[] = [];

/** The code a call failed with (it must fail with a TenantryError). */
async function failsWith(call: Promise<unknown>): Promise<TenantryErrorCode> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof TenantryError)) throw error;
    return error.code;
  }
  throw new Error("the call was expected to fail");
}

assert.match(import.meta.resolve("@tenantry/sdk"), /\/node_modules\/@tenantry\/sdk\/dist\/esm\/index\.js$/);

// The caller's own fetch is used as given.
const anonymous = createTenantryClient({ baseUrl, fetch: (url, init) => fetch(url, init) });

// tenant
const tenant: CreatedTenant = await anonymous.tenant.create({
  name: "Consumer ESM",
  adminEmail: "owner@esm.test",
  adminPassword: password,
  adminFirstName: "Olive",
});
done.push("tenant.create");

// auth
const { token, expiresAt, user } = await anonymous.auth.login({
  email: "owner@esm.test",
  password,
  tenant: tenant.slug,
});
assert.equal(user.id, tenant.adminUserId);
assert.ok(Date.parse(expiresAt) > Date.now());
let currentToken: string | null = token;
const admin: TenantryClient = createTenantryClient({
  baseUrl,
  token: async () => currentToken,
  headers: { "x-request-id": "sdk-consumer-esm" },
});
assert.deepEqual(await admin.auth.me(), user);
done.push("auth.login", "auth.me");

// user (two queries, batched)
const [me, users] = await Promise.all([admin.user.me(), admin.user.list()]);
const meUser: User = me;
assert.deepEqual(meUser.roles, ["ADMIN"]);
assert.equal(users.length, 1);
assert.equal((await admin.user.page({ limit: 10 })).count, 1);
done.push("user.me", "user.list", "user.page");

// tenant reads
assert.equal((await admin.tenant.list())[0]?.id, tenant.id);
assert.equal((await admin.tenant.get({ id: tenant.id })).slug, tenant.slug);
assert.equal((await admin.tenant.page({ limit: 1 })).count, 1);
done.push("tenant.list", "tenant.get", "tenant.page");

// invite
const role: Role = "ANALYST";
const invitation = await admin.invite.create({ email: "analyst@esm.test", role });
assert.equal(typeof invitation.token, "string");
const pending: Invitation[] = await admin.invite.list({ status: "pending" });
assert.deepEqual(
  pending.map((i) => i.id),
  [invitation.id],
);
assert.equal((await admin.invite.page({ limit: 5, status: "pending" })).count, 1);
const analyst = await anonymous.invite.accept({
  token: invitation.token,
  password,
  firstName: "Ana",
  lastName: "Lyst",
});
assert.deepEqual(analyst.roles, ["ANALYST"]);
assert.equal(analyst.tenantId, tenant.id);
const second = await admin.invite.create({ email: "viewer@esm.test", role: null });
const extended = await admin.invite.extend({ id: second.id, days: 3 });
assert.equal(extended.status, "pending");
await admin.invite.revoke({ id: second.id });
done.push("invite.create", "invite.list", "invite.page", "invite.accept", "invite.extend", "invite.revoke");

// role
const granted = await admin.role.grant({ userId: analyst.id, role: "VIEWER" });
assert.deepEqual((await admin.role.list({ userId: analyst.id })).map((r) => r.role).sort(), ["ANALYST", "VIEWER"]);
assert.equal((await admin.role.page({ limit: 1, role: "VIEWER" })).count, 1);
await admin.role.revoke({ id: granted.id });
done.push("role.grant", "role.list", "role.page", "role.revoke");

// second release: bulk invite (a bad row never stops the others), deactivate and activate, password change
const bulk = await admin.invite.bulk({
  invitations: [{ email: "bulk@esm.test", role: "VIEWER" }, { email: "not-an-email" }],
});
assert.deepEqual([bulk.created, bulk.failed], [1, 1]);
assert.equal(bulk.results[0]?.invitation?.email, "bulk@esm.test");
assert.deepEqual(Object.keys(bulk.results[1]?.errors ?? {}), ["email"]);
assert.equal((await admin.user.deactivate({ id: analyst.id })).isActive, false);
assert.equal((await admin.user.activate({ id: analyst.id })).isActive, true);
const newPassword = "another horse battery staple";
await admin.auth.changePassword({ currentPassword: password, newPassword });
assert.equal((await anonymous.auth.login({ email: "owner@esm.test", password: newPassword })).user.id, user.id);
done.push("invite.bulk", "user.deactivate", "user.activate", "auth.changePassword");

// audit (tenant ADMINs) and ops (superusers only)
assert.ok((await admin.audit.list()).length > 0);
assert.equal(await failsWith(admin.ops.tenants()), "FORBIDDEN");
done.push("audit.list", "ops.tenants");

// errors: code, status, camelCase field names
try {
  await anonymous.tenant.create({ name: "Other", adminEmail: "not-an-email", adminPassword: password });
  assert.fail("expected a validation error");
} catch (error) {
  assert.ok(error instanceof TenantryError);
  assert.equal(error.code, "BAD_REQUEST");
  assert.equal(error.status, 400);
  assert.deepEqual(Object.keys(error.fieldErrors), ["adminEmail"]);
}

// abort
const controller = new AbortController();
const aborted = admin.user.me(undefined, { signal: controller.signal });
controller.abort();
assert.equal(await failsWith(aborted), "ABORTED");

// logout; then the token no longer works
await admin.auth.logout();
assert.equal(await failsWith(admin.user.me()), "UNAUTHORIZED");
currentToken = null;
done.push("auth.logout");

// Calls that must not compile. This function never runs; tsc proves each line is an error.
export function mistakes(client: TenantryClient): void {
  // @ts-expect-error an unknown role
  void client.role.grant({ userId: user.id, role: "OWNER" });
  // @ts-expect-error roles are case-sensitive
  void client.invite.create({ email: "a@b.test", role: "viewer" });
  // @ts-expect-error a missing required field (adminPassword)
  void client.tenant.create({ name: "Acme", adminEmail: "a@acme.test" });
  // @ts-expect-error a wrong field name (snake_case)
  void client.tenant.create({ name: "A", adminEmail: "a@a.test", adminPassword: "x", admin_first_name: "A" });
  // @ts-expect-error a wrong field name in an optional input
  void client.role.list({ user: user.id });
  // @ts-expect-error a wrong type
  void client.invite.revoke({ id: 42 });
  // @ts-expect-error a missing argument
  void client.invite.accept();
  // @ts-expect-error an unknown procedure
  void client.user.impersonate({ id: user.id });
  // @ts-expect-error outputs are typed: users have no password
  void client.user.me().then((u) => u.password);
  // @ts-expect-error an unknown invitation status
  void client.invite.list({ status: "open" });
}

process.stdout.write(`${JSON.stringify({ consumer: "esm", ok: true, procedures: done })}\n`);
