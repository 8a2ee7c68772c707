// A CommonJS consumer of the packed @tenantry/sdk: `require` gets the CJS build
// and its own declarations. It also loads the ESM build in the same process and
// checks that `instanceof TenantryError` holds across the two copies.
import assert = require("node:assert/strict");
import sdk = require("@tenantry/sdk");

async function main(): Promise<void> {
  const baseUrl = process.env.TENANTRY_URL;
  if (!baseUrl) throw new Error("TENANTRY_URL is not set");
  const password = "correct horse battery staple";
  assert.match(
    require.resolve("@tenantry/sdk"),
    /[\\/]node_modules[\\/]@tenantry[\\/]sdk[\\/]dist[\\/]cjs[\\/]index\.js$/,
  );

  const anonymous: sdk.TenantryClient = sdk.createTenantryClient({ baseUrl });
  const tenant = await anonymous.tenant.create({
    name: "Consumer CJS",
    adminEmail: "owner@cjs.test",
    adminPassword: password,
  });
  const { token } = await anonymous.auth.login({ email: "owner@cjs.test", password });
  const admin = sdk.createTenantryClient({ baseUrl, token });
  const me: sdk.User = await admin.user.me();
  assert.equal(me.id, tenant.adminUserId);
  const role: sdk.Role = "VIEWER";
  const invitation = await admin.invite.create({ email: "viewer@cjs.test", role });
  assert.equal(invitation.role, "VIEWER");

  // An error from the CJS copy, seen through the ESM copy's class, and the reverse.
  const esm = await import("@tenantry/sdk");
  assert.notEqual(esm.TenantryError, sdk.TenantryError);
  const fromCjs = await anonymous.user.me().catch((error: unknown) => error);
  assert.ok(fromCjs instanceof sdk.TenantryError);
  assert.ok(fromCjs instanceof esm.TenantryError);
  assert.equal(fromCjs.code, "UNAUTHORIZED");
  assert.equal(fromCjs.status, 401);
  const fromEsm = await esm
    .createTenantryClient({ baseUrl })
    .tenant.get({ id: tenant.id })
    .catch((error: unknown) => error);
  assert.ok(fromEsm instanceof sdk.TenantryError);
  assert.ok(fromEsm instanceof Error);
  assert.ok(!(new Error("plain") instanceof sdk.TenantryError));

  await admin.auth.logout();
  process.stdout.write(`${JSON.stringify({ consumer: "cjs", ok: true })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
