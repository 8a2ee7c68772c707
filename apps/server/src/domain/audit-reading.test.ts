import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InvitationEmail } from "../mail/hook.js";
import { failure } from "../test-support/errors.js";
import { addMember, type Caller, createHarness, type Harness, signUp, superuser } from "../test-support/harness.js";
import { errorDetails } from "../trpc/errors.js";
import { DAY_MS } from "./clock.js";
import { bouncingHook, sqlOf } from "./test-support/audit-trail.js";

/**
 * The audit trail (issue #6): every change is recorded, in the same
 * transaction as the change, with who, where, what and from which client;
 * events can never be changed or deleted; tenant ADMINs and superusers read
 * it through `audit.list` / `audit.page`.
 */

describe("(d) reading the audit trail: audit.list and audit.page", () => {
  let h: Harness;
  let sql: ReturnType<typeof sqlOf>;
  let a: Awaited<ReturnType<typeof signUp>>;
  let b: Awaited<ReturnType<typeof signUp>>;
  let viewer: Caller;
  let analyst: Caller;
  let staff: Awaited<ReturnType<typeof superuser>>;
  /** Tenant C: its events happen on three consecutive UTC days at 10:00. */
  let c: Awaited<ReturnType<typeof signUp>>;
  let day1: Date;
  let invitedOnDay2: string;
  let invitedOnDay3: string;
  const emails: InvitationEmail[] = [];

  const dateOnly = (date: Date) => date.toISOString().slice(0, 10);

  beforeAll(async () => {
    h = await createHarness({ throttle: false, retryDelaysMs: [], hook: bouncingHook(emails) });
    sql = sqlOf(h);
    a = await signUp(h);
    b = await signUp(h);
    viewer = (await addMember(h, a.admin, "viewer@a.example.com", "VIEWER")).caller;
    analyst = (await addMember(h, a.admin, "analyst@a.example.com", "ANALYST")).caller;
    await addMember(h, b.admin, "member@b.example.com", "VIEWER");
    staff = await superuser(h);
    // A failed login (anonymous) and a failed delivery (system) in tenant A.
    await failure(h.call().auth.login({ email: a.adminEmail, password: "not-the-Password-1" }));
    await a.admin.invite.create({ email: "bounce@a.example.com", role: null });
    await h.deliverEmails();

    const midnight = new Date(h.clock.now());
    midnight.setUTCHours(0, 0, 0, 0);
    day1 = new Date(midnight.getTime() + DAY_MS);
    h.clock.set(new Date(day1.getTime() + 10 * 3600_000));
    c = await signUp(h);
    h.clock.set(new Date(day1.getTime() + DAY_MS + 10 * 3600_000));
    invitedOnDay2 = (await c.admin.invite.create({ email: "day2@c.example.com", role: null })).id;
    h.clock.set(new Date(day1.getTime() + 2 * DAY_MS + 10 * 3600_000));
    invitedOnDay3 = (await c.admin.invite.create({ email: "day3@c.example.com", role: null })).id;
  });
  afterAll(async () => {
    await h?.close();
  });

  async function allEventIds(tenantId?: string): Promise<string[]> {
    const rows = await sql<{ id: string }>(
      `select id from audit_events ${tenantId ? "where tenant_id = ?" : ""} order by occurred_at desc, id desc`,
      tenantId ? [tenantId] : [],
    );
    return rows.map((row) => row.id);
  }

  it("a tenant ADMIN sees exactly their tenant's events, newest first; naming another tenant changes nothing", async () => {
    const seen = await a.admin.audit.list();
    expect(seen.map((event) => event.id)).toEqual(await allEventIds(a.tenant.id));
    expect(seen.every((event) => event.tenantId === a.tenant.id)).toBe(true);
    expect(seen.map((event) => event.action)).toEqual(
      expect.arrayContaining(["tenant.created", "invitation.accepted", "auth.login_failed", "email.delivery_failed"]),
    );
    const named = await a.admin.audit.list({ tenant: b.tenant.slug });
    expect(named.map((event) => event.id)).toEqual(seen.map((event) => event.id));
    const page = await a.admin.audit.page({ tenant: b.tenant.slug, limit: 1000 });
    expect(page.count).toBe(seen.length);
    expect(page.results.map((event) => event.id)).toEqual(seen.map((event) => event.id));
    expect(page.results.every((event) => event.tenantId === a.tenant.id)).toBe(true);
  });

  it("VIEWER and ANALYST are FORBIDDEN; anonymous is UNAUTHORIZED", async () => {
    for (const caller of [viewer, analyst]) {
      expect((await failure(caller.audit.list())).code).toBe("FORBIDDEN");
      expect((await failure(caller.audit.page({ limit: 10 }))).code).toBe("FORBIDDEN");
    }
    expect((await failure(h.call().audit.list())).code).toBe("UNAUTHORIZED");
    expect((await failure(h.call().audit.page({ limit: 10 }))).code).toBe("UNAUTHORIZED");
  });

  it("a superuser sees every event, or one tenant's with `tenant` (id or slug)", async () => {
    const everything = await staff.caller.audit.list();
    expect(everything.map((event) => event.id)).toEqual(await allEventIds());
    const tenants = new Set(everything.map((event) => event.tenantId));
    for (const tenant of [a.tenant.id, b.tenant.id, c.tenant.id, null]) expect(tenants.has(tenant)).toBe(true);

    const bySlug = await staff.caller.audit.list({ tenant: b.tenant.slug });
    expect(bySlug.map((event) => event.id)).toEqual(await allEventIds(b.tenant.id));
    const byId = await staff.caller.audit.list({ tenant: b.tenant.id });
    expect(byId).toEqual(bySlug);
    // ops.audit answers the same.
    expect(await staff.caller.ops.audit({ tenant: b.tenant.slug })).toEqual(bySlug);
  });

  it("newest first", async () => {
    const everything = await staff.caller.audit.list();
    for (let index = 1; index < everything.length; index++) {
      const newer = everything[index - 1] as (typeof everything)[number];
      const older = everything[index] as (typeof everything)[number];
      expect(Date.parse(newer.occurredAt)).toBeGreaterThanOrEqual(Date.parse(older.occurredAt));
    }
    const cEvents = await staff.caller.audit.list({ tenant: c.tenant.slug });
    expect(cEvents[0]?.targetId).toBe(invitedOnDay3);
    expect(cEvents[1]?.targetId).toBe(invitedOnDay2);
    expect(
      cEvents
        .slice(2)
        .map((event) => event.action)
        .sort(),
    ).toEqual(["auth.login_succeeded", "tenant.created"]);
  });

  it("filters by action", async () => {
    const accepted = await staff.caller.audit.list({ action: "invitation.accepted" });
    expect(accepted.length).toBe(3);
    expect(accepted.every((event) => event.action === "invitation.accepted")).toBe(true);
    const scoped = await a.admin.audit.list({ action: "invitation.accepted" });
    expect(scoped).toHaveLength(2);
    const bad = await failure(a.admin.audit.list({ action: "invitation.deleted" as "invitation.accepted" }));
    expect(bad.code).toBe("BAD_REQUEST");
    expect(errorDetails(bad).fieldErrors).toHaveProperty("action");
  });

  it("filters by actor: a user's id or email (any case), `system`, `cli`, `anonymous`", async () => {
    const byId = await staff.caller.audit.list({ actor: a.adminId });
    expect(byId.length).toBeGreaterThan(3);
    expect(byId.every((event) => event.actorId === a.adminId)).toBe(true);
    expect(byId.map((event) => event.action)).toEqual(
      expect.arrayContaining(["tenant.created", "auth.login_succeeded", "invitation.created"]),
    );
    expect(await staff.caller.audit.list({ actor: a.adminEmail.toUpperCase() })).toEqual(byId);

    const system = await staff.caller.audit.list({ actor: "system" });
    expect(system.map((event) => event.action)).toEqual(["email.delivery_failed"]);
    const cli = await staff.caller.audit.list({ actor: "cli" });
    expect(cli.map((event) => [event.action, event.targetId])).toEqual([["superuser.created", staff.user.id]]);
    const anonymous = await staff.caller.audit.list({ actor: "anonymous" });
    expect(anonymous.map((event) => event.action)).toEqual(["auth.login_failed"]);
    expect(anonymous.every((event) => event.actorType === "anonymous")).toBe(true);
    // A tenant ADMIN's filter stays inside the tenant.
    expect(await a.admin.audit.list({ actor: b.adminId })).toEqual([]);
    expect(await staff.caller.audit.list({ actor: "nobody@nowhere.example.com" })).toEqual([]);
  });

  it("filters by since/until, as dates (midnight UTC) or ISO instants, with since inclusive", async () => {
    const day2 = new Date(day1.getTime() + DAY_MS);
    const day3 = new Date(day1.getTime() + 2 * DAY_MS);
    const ids = async (filter: { since?: string; until?: string }) =>
      (await staff.caller.audit.list({ tenant: c.tenant.slug, ...filter })).map((event) => event.targetId);
    const signUpTargets = [c.adminId, c.tenant.id]; // login_succeeded (user), tenant.created (tenant)

    expect(await ids({ since: dateOnly(day2) })).toEqual([invitedOnDay3, invitedOnDay2]);
    expect(await ids({ since: dateOnly(day3) })).toEqual([invitedOnDay3]);
    expect((await ids({ until: dateOnly(day2) })).sort()).toEqual([...signUpTargets].sort());
    expect(await ids({ since: dateOnly(day2), until: dateOnly(day3) })).toEqual([invitedOnDay2]);

    const day2At10 = new Date(day2.getTime() + 10 * 3600_000);
    expect(await ids({ since: day2At10.toISOString() })).toEqual([invitedOnDay3, invitedOnDay2]);
    expect(await ids({ since: new Date(day2At10.getTime() + 1).toISOString() })).toEqual([invitedOnDay3]);
    expect(await ids({ since: day2At10.toISOString(), until: new Date(day2At10.getTime() + 1).toISOString() })).toEqual(
      [invitedOnDay2],
    );
    expect((await ids({ until: new Date(day2At10.getTime() - 1).toISOString() })).sort()).toEqual(
      [...signUpTargets].sort(),
    );
    // An offset other than Z names the same instant.
    const plusTwo = `${dateOnly(day2)}T12:00:00+02:00`;
    expect(await ids({ since: plusTwo })).toEqual([invitedOnDay3, invitedOnDay2]);

    for (const since of ["yesterday", "2026-13-45", "29/11/2026"]) {
      const bad = await failure(staff.caller.audit.list({ since }));
      expect(bad.code, since).toBe("BAD_REQUEST");
      expect(errorDetails(bad).fieldErrors).toHaveProperty("since");
    }
  });

  it("audit.page covers the whole list exactly once, in order, with the total count", async () => {
    for (const [caller, tenant] of [
      [staff.caller, undefined],
      [staff.caller, a.tenant.slug],
      [a.admin, undefined],
    ] as const) {
      const whole = (await caller.audit.list(tenant ? { tenant } : {})).map((event) => event.id);
      const paged: string[] = [];
      for (let offset = 0; offset < whole.length + 3; offset += 3) {
        const page = await caller.audit.page({ tenant, limit: 3, offset });
        expect(page.count).toBe(whole.length);
        expect(page.results.length).toBe(Math.max(0, Math.min(3, whole.length - offset)));
        paged.push(...page.results.map((event) => event.id));
      }
      expect(paged).toEqual(whole);
      expect(new Set(paged).size).toBe(paged.length);
    }
    const filtered = await a.admin.audit.page({ action: "invitation.accepted", limit: 1, offset: 1 });
    expect(filtered.count).toBe(2);
    expect(filtered.results).toHaveLength(1);
  });
});
