import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DAY_MS, systemClock } from "./domain/clock.js";
import { createSuperuser } from "./domain/users.js";
import { loadEnv } from "./env.js";
import { createLogger } from "./logger.js";
import { createServices } from "./services.js";
import { failure } from "./test-support/errors.js";
import {
  addMember,
  type Caller,
  createHarness,
  type Harness,
  STRONG_PASSWORD,
  signUp,
  superuser,
  unique,
} from "./test-support/harness.js";
import {
  addMemberRest,
  DETAIL,
  ISO_UTC,
  KEYS,
  PASSWORD,
  RestClient,
  signUpRest,
  statusOf,
  uniqueName,
} from "./test-support/rest.js";
import { startTestServer, type TestServer } from "./test-support/server.js";
import { errorDetails } from "./trpc/errors.js";
import { appRouter } from "./trpc/router.js";

/**
 * The superusers' operations (issue #6): the `ops` router's authorization,
 * purging old invitations, re-sending and extending invitations, and the REST
 * routes that expose them.
 */

const TOKEN_INVALID = "Invalid or revoked invitation token.";

type OpsProcedure = (input?: unknown) => Promise<unknown>;

/** `caller.ops[name]`, for calling every procedure of the router by name. */
function opsProcedure(caller: Caller, name: string): OpsProcedure {
  const procedure = (caller.ops as unknown as Record<string, OpsProcedure>)[name];
  if (!procedure) throw new Error(`no procedure ops.${name}`);
  return procedure;
}

function sqlOf(h: Harness) {
  return <T = Record<string, unknown>>(query: string, params: unknown[] = []) =>
    h.db.orm.em.fork().getConnection().execute<T[]>(query, params);
}

async function countEvents(h: Harness): Promise<number> {
  const rows = await sqlOf(h)<{ n: number }>("select count(*)::int as n from audit_events");
  return Number(rows[0]?.n);
}

describe("ops router: superusers only", () => {
  let h: Harness;
  let a: Awaited<ReturnType<typeof signUp>>;
  let staff: Awaited<ReturnType<typeof superuser>>;
  let invitationId: string;
  let memberId: string;
  let viewerAssignmentId: string;
  let webhookId: string;

  beforeAll(async () => {
    h = await createHarness({ throttle: false });
    a = await signUp(h);
    await signUp(h);
    staff = await superuser(h);
    const member = await addMember(h, a.admin, "member@ops-auth.example.com", "VIEWER");
    memberId = member.user.id;
    viewerAssignmentId = (await a.admin.role.list({ userId: memberId }))[0]?.id as string;
    invitationId = (await a.admin.invite.create({ email: "pending@ops-auth.example.com", role: null })).id;
    webhookId = (await staff.caller.ops.createWebhook({ url: "http://127.0.0.1:9/ops-auth" })).id;
  });
  afterAll(async () => {
    await h?.close();
  });

  /** One valid input per ops procedure; every procedure of the router must be listed here. */
  function inputs(): Record<string, () => unknown> {
    return {
      tenants: () => undefined,
      users: () => ({ tenant: a.tenant.slug }),
      invitations: () => ({}),
      extendInvitation: () => ({ id: invitationId, days: 3 }),
      resendInvitation: () => ({ id: invitationId }),
      revokeInvitation: () => ({ id: invitationId }),
      purgeInvitations: () => ({ olderThanDays: 0, dryRun: true }),
      roles: () => ({}),
      grantRole: () => ({ userId: memberId, role: "ANALYST" }),
      revokeRole: () => ({ id: viewerAssignmentId }),
      audit: () => ({}),
      webhooks: () => undefined,
      createWebhook: () => ({ url: "http://127.0.0.1:9/ops-matrix", eventTypes: ["tenant.created"] }),
      testWebhook: () => ({ id: webhookId }),
      webhookDeliveries: () => ({ id: webhookId }),
      removeWebhook: () => ({ id: webhookId }),
      endSessions: () => ({ userId: memberId }),
      sendPasswordReset: () => ({ id: memberId }),
    };
  }

  it("lists every ops procedure (so a new one cannot go untested)", () => {
    const names = Object.keys(appRouter._def.procedures)
      .filter((name) => name.startsWith("ops."))
      .map((name) => name.slice(4));
    expect(names.sort()).toEqual(Object.keys(inputs()).sort());
  });

  it("every ops procedure is FORBIDDEN for a tenant ADMIN (also naming their own tenant) and changes nothing", async () => {
    const before = await countEvents(h);
    const invitation = (await a.admin.invite.list()).find((row) => row.id === invitationId);
    for (const [name, input] of Object.entries(inputs())) {
      const plain = await failure(opsProcedure(a.admin, name)(input()));
      expect(plain.code, `ops.${name}`).toBe("FORBIDDEN");
      const value = input();
      const own = await failure(
        opsProcedure(a.admin, name)({ ...(typeof value === "object" ? value : {}), tenant: a.tenant.slug }),
      );
      expect(own.code, `ops.${name} with tenant`).toBe("FORBIDDEN");
    }
    expect(await countEvents(h)).toBe(before);
    expect((await a.admin.invite.list()).find((row) => row.id === invitationId)).toEqual(invitation);
    expect((await a.admin.role.list({ userId: memberId })).map((row) => row.role)).toEqual(["VIEWER"]);
  });

  it("every ops procedure is UNAUTHORIZED for an anonymous caller", async () => {
    for (const [name, input] of Object.entries(inputs())) {
      const error = await failure(opsProcedure(h.call(), name)(input()));
      expect(error.code, `ops.${name}`).toBe("UNAUTHORIZED");
    }
  });

  it("every ops procedure is allowed for a superuser", async () => {
    const results: Record<string, unknown> = {};
    for (const [name, input] of Object.entries(inputs())) {
      results[name] = await opsProcedure(staff.caller, name)(input());
      // The assignment granted here is the one revoked next: revoke the grant, keep the VIEWER.
      if (name === "grantRole") viewerAssignmentId = (results[name] as { id: string }).id;
    }
    expect(results.tenants).toEqual(expect.arrayContaining([expect.objectContaining({ id: a.tenant.id })]));
    expect((results.users as { email: string }[]).map((user) => user.email).sort()).toEqual(
      [a.adminEmail, "member@ops-auth.example.com"].sort(),
    );
    expect(results.extendInvitation).toMatchObject({ id: invitationId, status: "pending" });
    expect(results.resendInvitation).toMatchObject({ id: invitationId, token: expect.any(String) });
    expect((await staff.caller.ops.invitations({ tenant: a.tenant.slug, status: "revoked" })).map((i) => i.id)).toEqual(
      [invitationId],
    );
    expect(results.purgeInvitations).toMatchObject({ dryRun: true });
    expect((await staff.caller.ops.roles({ userId: memberId })).map((row) => row.role)).toEqual(["VIEWER"]);
    expect((results.audit as { action: string }[]).map((event) => event.action)).toContain("invitation.extended");
    expect(results.createWebhook).toMatchObject({
      eventTypes: ["tenant.created"],
      secret: expect.stringMatching(/^whsec_/),
    });
    expect((results.webhooks as { id: string }[]).map((endpoint) => endpoint.id)).toContain(webhookId);
    // Port 9 is one fetch refuses to call: the test is one failed attempt, recorded.
    expect(results.testWebhook).toMatchObject({ eventType: "webhook.tested", status: "failed", attempts: 1 });
    // The endpoint (every event type) got an event for each change made above, newest first.
    expect((results.webhookDeliveries as { eventType: string }[]).map((d) => d.eventType)).toEqual([
      "webhook.tested",
      "role.revoked",
      "role.granted",
      "invitation.revoked",
      "invitation.resent",
      "invitation.extended",
    ]);
    expect((await staff.caller.ops.webhooks()).map((endpoint) => endpoint.id)).not.toContain(webhookId);
    expect(results.sendPasswordReset).toMatchObject({ userId: memberId, email: "member@ops-auth.example.com" });
    await h.deliverEmails();
    expect(h.resetEmails.map((email) => email.to)).toEqual(["member@ops-auth.example.com"]);
  });

  it("ops.users without `tenant` is BAD_REQUEST on the field `tenant`; an unknown tenant too", async () => {
    const missing = await failure(staff.caller.ops.users());
    expect(missing.code).toBe("BAD_REQUEST");
    expect(errorDetails(missing).fieldErrors).toEqual({ tenant: ["This field is required."] });
    const unknown = await failure(staff.caller.ops.users({ tenant: "no-such-tenant" }));
    expect(unknown.code).toBe("BAD_REQUEST");
    expect(Object.keys(errorDetails(unknown).fieldErrors)).toEqual(["tenant"]);
  });
});

describe("ops.purgeInvitations", () => {
  let h: Harness;
  let sql: ReturnType<typeof sqlOf>;
  let ops: Caller["ops"];
  let p: Awaited<ReturnType<typeof signUp>>;
  let q: Awaited<ReturnType<typeof signUp>>;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    h = await createHarness({ throttle: false });
    sql = sqlOf(h);
    p = await signUp(h);
    q = await signUp(h);
    ops = (await superuser(h)).caller.ops;
    const now = h.clock.now().getTime();
    const daysAgo = (n: number) => new Date(now - n * DAY_MS);
    const invite = async (tenant: typeof p, name: string) => {
      ids[name] = (await tenant.admin.invite.create({ email: `${name}@purge.example.com`, role: null })).id;
      return ids[name] as string;
    };
    // Tenant P: expired and revoked, 40 and 10 days ago; one pending; one accepted long ago.
    await sql("update invitations set expires_at = ? where id = ?", [daysAgo(40), await invite(p, "expired40")]);
    await sql("update invitations set expires_at = ? where id = ?", [daysAgo(10), await invite(p, "expired10")]);
    for (const [name, age] of [
      ["revoked40", 40],
      ["revoked10", 10],
    ] as const) {
      await p.admin.invite.revoke({ id: await invite(p, name) });
      await sql("update invitations set revoked_at = ? where id = ?", [daysAgo(age), ids[name]]);
    }
    await invite(p, "pending");
    const accepted = await p.admin.invite.create({ email: "accepted@purge.example.com", role: null });
    ids.accepted = accepted.id;
    await h.call().invite.accept({ token: accepted.token, password: STRONG_PASSWORD });
    await sql("update invitations set expires_at = ?, accepted_at = ?, created_at = ? where id = ?", [
      daysAgo(90),
      daysAgo(95),
      daysAgo(97),
      accepted.id,
    ]);
    // Tenant Q: expired 40 and 20 days ago.
    await sql("update invitations set expires_at = ? where id = ?", [daysAgo(40), await invite(q, "q40")]);
    await sql("update invitations set expires_at = ? where id = ?", [daysAgo(20), await invite(q, "q20")]);
  });
  afterAll(async () => {
    await h?.close();
  });

  async function remaining(): Promise<string[]> {
    const rows = await sql<{ id: string }>("select id from invitations");
    const byId = new Map(Object.entries(ids).map(([name, id]) => [id, name]));
    return rows.map((row) => byId.get(row.id) ?? row.id).sort();
  }

  const cutoff = (days: number) => new Date(h.clock.now().getTime() - days * DAY_MS).toISOString();
  const everything = ["accepted", "expired10", "expired40", "pending", "q20", "q40", "revoked10", "revoked40"];

  it("a dry run counts what would go and deletes nothing; `tenant` limits it", async () => {
    expect(await ops.purgeInvitations({ olderThanDays: 30, dryRun: true, tenant: p.tenant.slug })).toEqual({
      purged: 2,
      dryRun: true,
      cutoff: cutoff(30),
    });
    expect(await ops.purgeInvitations({ olderThanDays: 30, dryRun: true })).toEqual({
      purged: 3,
      dryRun: true,
      cutoff: cutoff(30),
    });
    expect(await remaining()).toEqual(everything);
  });

  it("deletes invitations expired or revoked more than N days ago in the named tenant, keeping the rest", async () => {
    expect(await ops.purgeInvitations({ olderThanDays: 30, tenant: p.tenant.id })).toEqual({
      purged: 2,
      dryRun: false,
      cutoff: cutoff(30),
    });
    expect(await remaining()).toEqual(everything.filter((name) => name !== "expired40" && name !== "revoked40"));
    const events = await sql<{ target_id: string; tenant_id: string }>(
      "select target_id, tenant_id from audit_events where action = 'invitation.purged'",
    );
    expect(events.map((event) => event.target_id).sort()).toEqual([ids.expired40, ids.revoked40].sort());
    expect(events.every((event) => event.tenant_id === p.tenant.id)).toBe(true);
  });

  it("uses the configured retention (30 days in the harness) when olderThanDays is absent", async () => {
    expect(await ops.purgeInvitations({ tenant: q.tenant.slug })).toEqual({
      purged: 1,
      dryRun: false,
      cutoff: cutoff(30),
    });
    expect(await remaining()).toEqual(["accepted", "expired10", "pending", "q20", "revoked10"]);
  });

  it("olderThanDays 0 takes every expired and revoked one, never a pending or accepted one", async () => {
    expect(await ops.purgeInvitations({ olderThanDays: 0 })).toMatchObject({ purged: 3, cutoff: cutoff(0) });
    expect(await remaining()).toEqual(["accepted", "pending"]);
    expect(await ops.purgeInvitations({ olderThanDays: 0 })).toMatchObject({ purged: 0 });
  });

  it("refuses a negative or fractional olderThanDays on that field", async () => {
    for (const olderThanDays of [-1, 1.5, "ten"]) {
      const error = await failure(ops.purgeInvitations({ olderThanDays: olderThanDays as number }));
      expect(error.code).toBe("BAD_REQUEST");
      expect(Object.keys(errorDetails(error).fieldErrors)).toEqual(["olderThanDays"]);
    }
  });
});

/** A promise and the function that settles it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe("the purge job (PURGE_INTERVAL_MINUTES)", () => {
  let h: Harness;
  let sql: ReturnType<typeof sqlOf>;
  beforeAll(async () => {
    h = await createHarness({ throttle: false });
    sql = sqlOf(h);
  });
  afterAll(async () => {
    vi.useRealTimers();
    await h?.close();
  });

  /** A logger that can be awaited for the `n`th line with a given message. */
  function awaitableLogger() {
    const lines: Record<string, unknown>[] = [];
    const waiters: { msg: string; n: number; resolve: () => void }[] = [];
    const settle = () => {
      for (const waiter of [...waiters]) {
        if (lines.filter((line) => line.msg === waiter.msg).length >= waiter.n) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    };
    const logger = createLogger(
      "debug",
      new Writable({
        write(chunk, _encoding, done) {
          for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line));
          settle();
          done();
        },
      }) as unknown as Parameters<typeof createLogger>[1],
    );
    return {
      logger,
      lines,
      nth: (msg: string, n: number) =>
        new Promise<void>((resolve) => {
          waiters.push({ msg, n, resolve });
          settle();
        }),
    };
  }

  it("purges on its interval, again on the next one, and stops with the server", async () => {
    const p = await signUp(h);
    const old = async (name: string) => {
      const { id } = await p.admin.invite.create({ email: `${unique(name)}@purge-job.example.com`, role: null });
      await sql("update invitations set expires_at = ? where id = ?", [
        new Date(h.clock.now().getTime() - 31 * DAY_MS),
        id,
      ]);
      return id;
    };
    const exists = async (id: string) => (await sql("select 1 from invitations where id = ?", [id])).length === 1;
    const kept = (await p.admin.invite.create({ email: `${unique("kept")}@purge-job.example.com`, role: null })).id;
    const first = await old("first");

    const log = awaitableLogger();
    const env = loadEnv({
      NODE_ENV: "test",
      THROTTLE: "off",
      SECRET_KEY: randomBytes(24).toString("hex"),
      PURGE_INTERVAL_MINUTES: "5",
    });
    const running = await createServices(env, h.db, log.logger, { clock: h.clock, hook: () => {} });
    const release = gate();
    let holder: Promise<void> | undefined;
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    try {
      running.start();
      vi.advanceTimersByTime(5 * 60_000 - 1);
      expect(log.lines.filter((line) => line.msg === "purged old invitations")).toEqual([]);
      vi.advanceTimersByTime(1);
      await log.nth("purged old invitations", 1);
      expect(await exists(first)).toBe(false);
      expect(await exists(kept)).toBe(true);
      const events = await sql<{ actor_type: string; details: { olderThanDays: number } }>(
        "select actor_type, details from audit_events where action = 'invitation.purged' and target_id = ?",
        [first],
      );
      expect(events).toEqual([{ actor_type: "system", details: expect.objectContaining({ olderThanDays: 30 }) }]);

      const second = await old("second");
      vi.advanceTimersByTime(5 * 60_000);
      await log.nth("purged old invitations", 2);
      expect(await exists(second)).toBe(false);

      // Stopping waits for a purge in flight. The purge is held on a row lock; no delivery pass
      // is running, so nothing else can hold `stop` up.
      const third = await old("third");
      await running.delivery.stop();
      const locked = gate();
      holder = h.db.orm.em.fork().transactional(async (em) => {
        await em
          .getConnection()
          .execute("select id from invitations where id = ? for update", [third], "all", em.getTransactionContext());
        locked.open();
        await release.promise;
      });
      await locked.promise;
      vi.advanceTimersByTime(5 * 60_000);
      const stopped = running.stop().then(() => "stopped");
      expect(await Promise.race([stopped, sql("select 1").then(() => "still purging")])).toBe("still purging");
      release.open();
      await holder;
      expect(await stopped).toBe("stopped");
      expect(await exists(third)).toBe(false);
      expect(log.lines.filter((line) => line.msg === "purged old invitations")).toHaveLength(3);
      expect(log.lines.filter((line) => line.msg === "purging invitations failed")).toEqual([]);

      // Stopped: no timer is left to purge again.
      expect(vi.getTimerCount()).toBe(0);
      const fourth = await old("fourth");
      vi.advanceTimersByTime(60 * 60_000);
      await h.db.ping();
      expect(await exists(fourth)).toBe(true);
      expect(await exists(kept)).toBe(true);
    } finally {
      vi.useRealTimers();
      release.open();
      await holder;
      await running.stop();
    }
  });
});

describe("re-sending and extending invitations", () => {
  let h: Harness;
  let a: Awaited<ReturnType<typeof signUp>>;
  let b: Awaited<ReturnType<typeof signUp>>;
  let staff: Awaited<ReturnType<typeof superuser>>;

  beforeAll(async () => {
    h = await createHarness({ throttle: false });
    a = await signUp(h);
    b = await signUp(h);
    staff = await superuser(h);
  });
  afterAll(async () => {
    await h?.close();
  });

  const tokensSentFor = (id: string) =>
    h.emails
      .filter((email) => email.invitationId === id)
      .map((email) => new URLSearchParams(new URL(email.acceptUrl).hash.slice(1)).get("token"));
  const plusDays = (days: number) => new Date(h.clock.now().getTime() + days * DAY_MS).toISOString();

  async function expectTokenInvalid(token: string) {
    const error = await failure(h.call().invite.accept({ token, password: STRONG_PASSWORD }));
    expect(error.code).toBe("BAD_REQUEST");
    expect(errorDetails(error).fieldErrors).toEqual({ token: [TOKEN_INVALID] });
  }

  for (const via of ["invite.resend (tenant ADMIN)", "ops.resendInvitation (superuser)"] as const) {
    const resend = (id: string) =>
      via.startsWith("invite") ? a.admin.invite.resend({ id }) : staff.caller.ops.resendInvitation({ id });

    it(`${via}: a new token and expiry, the old token stops working, the email goes out again`, async () => {
      const email = `${unique("resend")}@invitee.example.com`;
      const created = await a.admin.invite.create({ email, role: "ANALYST" });
      await h.deliverEmails();
      expect(tokensSentFor(created.id)).toEqual([created.token]);
      h.clock.advance(DAY_MS);

      const resent = await resend(created.id);
      expect(resent).toMatchObject({
        id: created.id,
        email,
        role: "ANALYST",
        status: "pending",
        emailDelivery: "pending",
        expiresAt: plusDays(7),
      });
      expect(resent.token).not.toBe(created.token);
      await expectTokenInvalid(created.token);

      await h.deliverEmails();
      expect(tokensSentFor(created.id)).toEqual([created.token, resent.token]);
      const mail = h.emails.filter((sent) => sent.invitationId === created.id).at(-1);
      expect(mail).toMatchObject({ to: email, expiresAt: resent.expiresAt, attempt: 1 });
      expect((await a.admin.invite.list()).find((row) => row.id === created.id)?.emailDelivery).toBe("sent");

      const user = await h.call().invite.accept({ token: resent.token, password: STRONG_PASSWORD });
      expect(user).toMatchObject({ email, tenantId: a.tenant.id, roles: ["ANALYST"] });
    });

    it(`${via}: an expired invitation becomes pending again`, async () => {
      const created = await a.admin.invite.create({ email: `${unique("late")}@invitee.example.com`, role: null });
      h.clock.advance(8 * DAY_MS);
      expect((await a.admin.invite.list({ status: "expired" })).map((row) => row.id)).toContain(created.id);
      const resent = await resend(created.id);
      expect(resent).toMatchObject({ status: "pending", expiresAt: plusDays(7) });
      await h.deliverEmails();
      expect(tokensSentFor(created.id).at(-1)).toBe(resent.token);
      await h.call().invite.accept({ token: resent.token, password: STRONG_PASSWORD });
    });

    it(`${via}: a revoked or accepted invitation is BAD_REQUEST and stays as it was`, async () => {
      const revoked = await a.admin.invite.create({ email: `${unique("revoked")}@invitee.example.com`, role: null });
      await a.admin.invite.revoke({ id: revoked.id });
      const accepted = await a.admin.invite.create({ email: `${unique("accepted")}@invitee.example.com`, role: null });
      await h.call().invite.accept({ token: accepted.token, password: STRONG_PASSWORD });
      const before = await a.admin.invite.list();
      const events = await countEvents(h);
      for (const id of [revoked.id, accepted.id]) {
        const error = await failure(resend(id));
        expect(error.code).toBe("BAD_REQUEST");
      }
      expect(await a.admin.invite.list()).toEqual(before);
      expect(await countEvents(h)).toBe(events);
    });
  }

  it("a tenant ADMIN cannot re-send or extend another tenant's invitation (NOT_FOUND), nothing changes", async () => {
    const created = await a.admin.invite.create({ email: `${unique("mine")}@invitee.example.com`, role: null });
    const before = await a.admin.invite.list();
    expect((await failure(b.admin.invite.resend({ id: created.id }))).code).toBe("NOT_FOUND");
    expect((await failure(b.admin.invite.extend({ id: created.id, days: 30 }))).code).toBe("NOT_FOUND");
    expect((await failure(b.admin.invite.revoke({ id: created.id }))).code).toBe("NOT_FOUND");
    expect(await a.admin.invite.list()).toEqual(before);
    // The original token still works.
    await h.call().invite.accept({ token: created.token, password: STRONG_PASSWORD });
  });

  it("ops.extendInvitation and ops.revokeInvitation work across tenants; extend defaults to 7 days", async () => {
    const inA = await a.admin.invite.create({ email: `${unique("ext")}@invitee.example.com`, role: null });
    const inB = await b.admin.invite.create({ email: `${unique("ext")}@invitee.example.com`, role: null });
    h.clock.advance(DAY_MS);
    expect(await staff.caller.ops.extendInvitation({ id: inA.id, days: 3 })).toMatchObject({
      id: inA.id,
      tenantId: a.tenant.id,
      status: "pending",
      expiresAt: plusDays(3),
    });
    expect(await staff.caller.ops.extendInvitation({ id: inB.id })).toMatchObject({
      tenantId: b.tenant.id,
      expiresAt: plusDays(7),
    });
    // Expired, then extended: pending again, with the same token.
    h.clock.advance(4 * DAY_MS);
    expect((await a.admin.invite.list({ status: "expired" })).map((row) => row.id)).toContain(inA.id);
    expect(await staff.caller.ops.extendInvitation({ id: inA.id, days: 1 })).toMatchObject({
      status: "pending",
      expiresAt: plusDays(1),
    });
    await staff.caller.ops.revokeInvitation({ id: inB.id });
    await expectTokenInvalid(inB.token);
    const user = await h.call().invite.accept({ token: inA.token, password: STRONG_PASSWORD });
    expect(user.tenantId).toBe(a.tenant.id);
    // Extending an accepted or revoked invitation is refused.
    for (const id of [inA.id, inB.id]) {
      expect((await failure(staff.caller.ops.extendInvitation({ id }))).code).toBe("BAD_REQUEST");
    }
  });
});

describe("ops over REST", () => {
  let server: TestServer;
  let api: RestClient;
  let admin: Awaited<ReturnType<typeof signUpRest>>;
  let staffToken: string;

  beforeAll(async () => {
    server = await startTestServer();
    api = new RestClient(server.url);
    admin = await signUpRest(api);
    const email = `${uniqueName("staff")}@platform.example.com`;
    await createSuperuser(
      {
        em: server.db.orm.em.fork(),
        clock: systemClock,
        audit: { actor: { type: "cli" }, client: { ip: null, userAgent: "test" } },
      },
      { email, password: PASSWORD },
    );
    const login = await api.post("/api/auth/login/", { email, password: PASSWORD });
    expect(login.status, statusOf(login)).toBe(200);
    staffToken = login.body.token;
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("POST /api/users/invitations/{id}/resend/ answers 200 with a new token; the old one stops working", async () => {
    const invited = await api.post(
      "/api/users/invite/",
      { email: "resend@rest.example.com", role: "VIEWER" },
      { token: admin.adminToken },
    );
    expect(invited.status, statusOf(invited)).toBe(201);
    const resent = await api.post(`/api/users/invitations/${invited.body.id}/resend/`, undefined, {
      token: admin.adminToken,
    });
    expect(resent.status, statusOf(resent)).toBe(200);
    expect(Object.keys(resent.body).sort()).toEqual([...KEYS.createdInvitation]);
    expect(resent.body).toMatchObject({ id: invited.body.id, status: "pending", email: "resend@rest.example.com" });
    expect(resent.body.token).toEqual(expect.any(String));
    expect(resent.body.token).not.toBe(invited.body.token);
    const old = await api.post("/api/users/accept-invite/", { token: invited.body.token, password: PASSWORD });
    expect(old.status).toBe(400);
    expect(old.body).toEqual({ token: [TOKEN_INVALID] });
    const fresh = await api.post("/api/users/accept-invite/", { token: resent.body.token, password: PASSWORD });
    expect(fresh.status, statusOf(fresh)).toBe(201);
  });

  it("GET /api/audit-events/?action=role.granted answers snake_case events of that action", async () => {
    const member = await addMemberRest(api, admin.adminToken, "member@rest.example.com", null);
    const granted = await api.post(
      "/api/user-roles/",
      { user: member.user.id, role: "ANALYST" },
      { token: admin.adminToken },
    );
    expect(granted.status, statusOf(granted)).toBe(201);
    const reply = await api.get("/api/audit-events/?action=role.granted", { token: admin.adminToken });
    expect(reply.status, statusOf(reply)).toBe(200);
    expect(Array.isArray(reply.body)).toBe(true);
    expect(reply.body).toHaveLength(1);
    for (const event of reply.body) {
      expect(Object.keys(event).sort()).toEqual([
        "action",
        "actor_email",
        "actor_id",
        "actor_type",
        "details",
        "id",
        "ip",
        "occurred_at",
        "target_id",
        "target_type",
        "tenant",
        "user_agent",
      ]);
      expect(event.action).toBe("role.granted");
      expect(event.tenant).toBe(admin.tenant.id);
      expect(event.occurred_at).toMatch(ISO_UTC);
      expect(
        JSON.stringify(event)
          .match(/"[^"]+":/g)
          ?.every((key) => /^"[a-z0-9_]+":$/.test(key)),
      ).toBe(true);
    }
    expect(reply.body).toContainEqual(
      expect.objectContaining({
        target_type: "role_assignment",
        target_id: granted.body.id,
        actor_type: "user",
        actor_id: admin.adminId,
        actor_email: admin.adminEmail,
        details: expect.objectContaining({ role: "ANALYST" }),
      }),
    );
    const paged = await api.get("/api/audit-events/?action=role.granted&limit=1&offset=0", {
      token: admin.adminToken,
    });
    expect(paged.status).toBe(200);
    expect(paged.body).toMatchObject({ count: reply.body.length, results: [reply.body[0]] });
  });

  it("GET /api/ops/tenants/ is 403 for a tenant ADMIN, 401 anonymous, 200 for a superuser", async () => {
    const forbidden = await api.get("/api/ops/tenants/", { token: admin.adminToken });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toEqual(DETAIL.forbidden);
    const anonymous = await api.get("/api/ops/tenants/");
    expect(anonymous.status).toBe(401);
    const allowed = await api.get("/api/ops/tenants/", { token: staffToken });
    expect(allowed.status, statusOf(allowed)).toBe(200);
    expect(allowed.body).toContainEqual({
      id: admin.tenant.id,
      name: admin.tenant.name,
      slug: admin.tenant.slug,
      created_at: admin.tenant.created_at,
    });
  });

  it("POST /api/ops/invitations/purge-expired/ dry run answers {purged, dry_run, cutoff} and deletes nothing", async () => {
    const invited = await api.post(
      "/api/users/invite/",
      { email: "revoked@rest.example.com", role: null },
      { token: admin.adminToken },
    );
    const revoked = await api.delete(`/api/users/invitations/${invited.body.id}/`, { token: admin.adminToken });
    expect(revoked.status).toBe(204);
    const before = Date.now();
    const reply = await api.post(
      "/api/ops/invitations/purge-expired/",
      { older_than_days: 0, dry_run: true },
      { token: staffToken },
    );
    expect(reply.status, statusOf(reply)).toBe(200);
    expect(Object.keys(reply.body).sort()).toEqual(["cutoff", "dry_run", "purged"]);
    expect(reply.body.dry_run).toBe(true);
    expect(reply.body.purged).toBe(1);
    expect(reply.body.cutoff).toMatch(ISO_UTC);
    expect(Date.parse(reply.body.cutoff)).toBeGreaterThanOrEqual(before);
    const list = await api.get("/api/users/invitations/?status=revoked", { token: admin.adminToken });
    expect(list.body.map((row: { id: string }) => row.id)).toContain(invited.body.id);

    const forbidden = await api.post(
      "/api/ops/invitations/purge-expired/",
      { older_than_days: 0, dry_run: true },
      { token: admin.adminToken },
    );
    expect(forbidden.status).toBe(403);
  });

  it("no REST route changes or deletes audit events", async () => {
    const before = await api.get("/api/audit-events/", { token: staffToken });
    expect(before.status).toBe(200);
    const id = before.body[0].id;
    for (const [method, path] of [
      ["DELETE", "/api/audit-events/"],
      ["POST", "/api/audit-events/"],
      ["PUT", "/api/audit-events/"],
      ["PATCH", "/api/audit-events/"],
      ["DELETE", `/api/audit-events/${id}/`],
      ["PUT", `/api/audit-events/${id}/`],
      ["DELETE", "/api/ops/audit-events/"],
      ["POST", "/api/ops/audit-events/"],
    ] as const) {
      const reply = await api.call(method, path, { token: staffToken, json: method === "DELETE" ? undefined : {} });
      expect([404, 405], `${method} ${path}`).toContain(reply.status);
    }
    const after = await api.get("/api/audit-events/", { token: staffToken });
    const byId = new Map(after.body.map((event: { id: string }) => [event.id, event]));
    for (const event of before.body) expect(byId.get(event.id)).toEqual(event);
  });
});
