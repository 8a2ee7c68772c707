import {
  CheckConstraintViolationException,
  ForeignKeyConstraintViolationException,
  UniqueConstraintViolationException,
} from "@mikro-orm/postgresql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, openDatabase } from "./database.js";
import { Invitation, RoleAssignment, Session, Tenant, User } from "./entities/index.js";
import { availableTestBackends, createTestDatabase, type TestDatabase } from "./testing.js";

const hex64 = (seed: string) => seed.repeat(64).slice(0, 64);

describe.each(await availableTestBackends())("the database enforces the invariants (%s)", (backend) => {
  let testDb: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    testDb = await createTestDatabase(backend);
    db = await openDatabase(testDb.target, { poolSize: 2 });
  });
  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });

  const em = () => db.orm.em.fork();
  let counter = 0;
  const unique = (prefix: string) => `${prefix}-${++counter}`;

  async function tenant(name = unique("Tenant")) {
    const fork = em();
    const row = fork.create(Tenant, { name, slug: unique("slug").toLowerCase() });
    await fork.flush();
    return row;
  }
  async function user(tenantId: string | null, email: string) {
    const fork = em();
    const row = fork.create(User, {
      tenant: tenantId,
      email,
      passwordHash: "x",
      isSuperuser: tenantId === null,
    });
    await fork.flush();
    return row;
  }
  async function invitation(tenantId: string, email: string, tokenHash: string, state = "pending" as const) {
    const fork = em();
    const row = fork.create(Invitation, {
      tenant: tenantId,
      email,
      tokenHash,
      state,
      expiresAt: new Date(Date.now() + 86_400_000),
    });
    await fork.flush();
    return row;
  }

  it("rejects a tenant name that differs only in case", async () => {
    await tenant("Acme Corp");
    await expect(tenant("ACME corp")).rejects.toThrow(UniqueConstraintViolationException);
    await expect(tenant("ACME corp")).rejects.toThrow(/tenants_name_lower_key/);
  });

  it("rejects a second user with the same email in one tenant, in any case", async () => {
    const t = await tenant();
    await user(t.id, "ann@example.com");
    await expect(user(t.id, "Ann@Example.com")).rejects.toThrow(/users_tenant_email_key/);
  });

  it("allows the same email in two tenants", async () => {
    const [a, b] = [await tenant(), await tenant()];
    await user(a.id, "same@example.com");
    const other = await user(b.id, "same@example.com");
    expect(other.tenant).toBe(b.id);
  });

  it("rejects two superusers with one email, and a superuser inside a tenant", async () => {
    await user(null, "root@example.com");
    await expect(user(null, "ROOT@example.com")).rejects.toThrow(/users_superuser_email_key/);
    const t = await tenant();
    const fork = em();
    fork.create(User, { tenant: t.id, email: "staff@example.com", passwordHash: "x", isSuperuser: true });
    await expect(fork.flush()).rejects.toThrow(CheckConstraintViolationException);
  });

  it("rejects a duplicate role assignment", async () => {
    const t = await tenant();
    const u = await user(t.id, "bob@example.com");
    const fork = em();
    fork.create(RoleAssignment, { tenant: t.id, user: u.id, role: "VIEWER" });
    await fork.flush();
    const again = em();
    again.create(RoleAssignment, { tenant: t.id, user: u.id, role: "VIEWER" });
    await expect(again.flush()).rejects.toThrow(/role_assignments_user_role_key/);
    const otherRole = em();
    otherRole.create(RoleAssignment, { tenant: t.id, user: u.id, role: "ADMIN" });
    await otherRole.flush();
  });

  it("rejects an assignment whose tenant is not its user's tenant, and an unknown role", async () => {
    const [a, b] = [await tenant(), await tenant()];
    const u = await user(a.id, "carol@example.com");
    const fork = em();
    fork.create(RoleAssignment, { tenant: b.id, user: u.id, role: "VIEWER" });
    await expect(fork.flush()).rejects.toThrow(ForeignKeyConstraintViolationException);
    await expect(
      em()
        .getConnection()
        .execute(
          "insert into role_assignments (id, tenant_id, user_id, role) values (gen_random_uuid(), ?, ?, 'viewer')",
          [a.id, u.id],
        ),
    ).rejects.toThrow(/role_assignments_role_check/);
  });

  it("rejects a reused invitation token hash and a reused session secret hash", async () => {
    const t = await tenant();
    await invitation(t.id, "d1@example.com", hex64("a"));
    await expect(invitation(t.id, "d2@example.com", hex64("a"))).rejects.toThrow(/invitations_token_hash_key/);

    const u = await user(t.id, "dave@example.com");
    const expiresAt = new Date(Date.now() + 1000);
    const first = em();
    first.create(Session, { id: "aaaaaaaaaaaaaaaaaaaaaaaa", secretHash: hex64("b"), user: u.id, expiresAt });
    await first.flush();
    const second = em();
    second.create(Session, { id: "bbbbbbbbbbbbbbbbbbbbbbbb", secretHash: hex64("b"), user: u.id, expiresAt });
    await expect(second.flush()).rejects.toThrow(/sessions_secret_hash_key/);
  });

  it("keeps one pending invitation per address and tenant", async () => {
    const t = await tenant();
    const first = await invitation(t.id, "erin@example.com", hex64("c"));
    await expect(invitation(t.id, "ERIN@example.com", hex64("d"))).rejects.toThrow(/invitations_one_pending_key/);
    const fork = em();
    await fork.nativeUpdate(Invitation, { id: first.id }, { state: "revoked", revokedAt: new Date() });
    await invitation(t.id, "erin@example.com", hex64("e"));
  });

  it("cascades a tenant's deletion and keeps assignments when their granter goes", async () => {
    const t = await tenant();
    const admin = await user(t.id, "admin@example.com");
    const member = await user(t.id, "member@example.com");
    const fork = em();
    const grant = fork.create(RoleAssignment, { tenant: t.id, user: member.id, role: "ANALYST", grantedBy: admin.id });
    fork.create(Session, {
      id: "cccccccccccccccccccccccc",
      secretHash: hex64("f"),
      user: member.id,
      expiresAt: new Date(Date.now() + 1000),
    });
    await fork.flush();
    await invitation(t.id, "frank@example.com", hex64("1"));

    await em().nativeDelete(User, { id: admin.id });
    const kept = await em().findOneOrFail(RoleAssignment, { id: grant.id });
    expect(kept.grantedBy).toBeNull();

    await em().nativeDelete(Tenant, { id: t.id });
    const check = em();
    expect(await check.count(User, { tenant: t.id })).toBe(0);
    expect(await check.count(RoleAssignment, { tenant: t.id })).toBe(0);
    expect(await check.count(Invitation, { tenant: t.id })).toBe(0);
    expect(await check.count(Session, { user: member.id })).toBe(0);
  });

  it("keeps each tenant's list counts as rows come and go", async () => {
    const t = await tenant();
    const counts = async () => {
      const rows = await em()
        .getConnection()
        .execute<{ list: string; count: string }[]>("select list, count from list_counts where tenant_id = ?", [t.id]);
      return Object.fromEntries(rows.map((row) => [row.list, Number(row.count)]));
    };
    const a = await user(t.id, "count-a@example.com");
    const b = await user(t.id, "count-b@example.com");
    await user(null, "count-root@example.com");
    const fork = em();
    fork.create(RoleAssignment, { tenant: t.id, user: a.id, role: "ADMIN" });
    fork.create(RoleAssignment, { tenant: t.id, user: b.id, role: "VIEWER" });
    await fork.flush();
    await invitation(t.id, "count-c@example.com", hex64("9"));
    expect(await counts()).toEqual({ users: 2, role_assignments: 2, invitations: 1 });

    // Deleting a user cascades to their assignments; the counts follow both.
    await em().nativeDelete(User, { id: b.id });
    expect(await counts()).toEqual({ users: 1, role_assignments: 1, invitations: 1 });
    await em().nativeDelete(Invitation, { tenant: t.id });
    expect(await counts()).toEqual({ users: 1, role_assignments: 1, invitations: 0 });
    // A tenant's deletion takes its counts along.
    await em().nativeDelete(Tenant, { id: t.id });
    expect(await counts()).toEqual({});
  });

  it("has nothing left to migrate after start", async () => {
    const migrator = await db.migrator();
    expect(await migrator.getPendingMigrations()).toEqual([]);
    expect(await migrator.up()).toEqual([]);
  });
});
