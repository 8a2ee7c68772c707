import { randomBytes } from "node:crypto";
import { openDatabase } from "@tenantry/db";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEnv } from "./env.js";
import { createLogger } from "./logger.js";
import type { InvitationEmail } from "./mail/hook.js";
import { createServices } from "./services.js";
import { itTwoPools } from "./test-support/backend.js";
import { createHarness, type Harness, STRONG_PASSWORD, signUp, unique } from "./test-support/harness.js";
import { createContext } from "./trpc/context.js";
import { errorDetails } from "./trpc/errors.js";
import { createCaller } from "./trpc/router.js";

/** The outcomes of calls started at the same moment: what succeeded, and the errors of the rest. */
async function race<T>(calls: Promise<T>[]): Promise<{ ok: T[]; errors: TRPCError[] }> {
  const settled = await Promise.allSettled(calls);
  const ok: T[] = [];
  const errors: TRPCError[] = [];
  for (const outcome of settled) {
    if (outcome.status === "fulfilled") ok.push(outcome.value);
    else {
      // Anything but a TRPCError (a crash, a driver error) is a failure of the test by itself.
      expect(outcome.reason).toBeInstanceOf(TRPCError);
      errors.push(outcome.reason as TRPCError);
    }
  }
  return { ok, errors };
}

/** A promise and the function that settles it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

const PASSWORDS = Array.from({ length: 10 }, (_, i) => `${STRONG_PASSWORD}-${i}`);

describe("concurrent requests", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ throttle: false });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
    return h.db.orm.em.fork().getConnection().execute<T[]>(query, params);
  }

  it("10 concurrent accepts of one invitation: exactly one wins, one user, one role assignment", async () => {
    const { admin, tenant } = await signUp(h);
    const email = `${unique("racer")}@example.com`;
    const invitation = await admin.invite.create({ email, role: "ANALYST" });

    h.resetQueries();
    const { ok, errors } = await race(
      PASSWORDS.map((password) => h.call().invite.accept({ token: invitation.token, password })),
    );
    // All ten got past the first read and raced for the conditional claim.
    expect(h.queries.filter((q) => q.includes("update invitations set state = 'accepted'"))).toHaveLength(10);

    expect(ok).toHaveLength(1);
    expect(ok[0]).toMatchObject({ email, tenantId: tenant.id, roles: ["ANALYST"] });
    expect(errors).toHaveLength(9);
    for (const error of errors) {
      expect(error.code).toBe("BAD_REQUEST");
      expect(errorDetails(error).fieldErrors).toEqual({ token: ["This invitation has already been accepted."] });
    }

    const users = await sql<{ id: string }>("select id from users where lower(email) = lower(?)", [email]);
    expect(users).toHaveLength(1);
    expect(users[0]?.id).toBe(ok[0]?.id);
    const assignments = await sql<{ role: string }>(
      "select ra.role from role_assignments ra join users u on u.id = ra.user_id where lower(u.email) = lower(?)",
      [email],
    );
    expect(assignments.map((a) => a.role)).toEqual(["ANALYST"]);
    const [row] = await sql<{ state: string }>("select state from invitations where id = ?", [invitation.id]);
    expect(row?.state).toBe("accepted");

    // The one password that won is the one that logs in.
    const logins = await Promise.allSettled(
      PASSWORDS.map((password) => h.call().auth.login({ email, password, tenant: tenant.id })),
    );
    expect(logins.filter((l) => l.status === "fulfilled")).toHaveLength(1);
  });

  it("10 concurrent accepts of a role-less invitation: one user, no role assignment", async () => {
    const { admin } = await signUp(h);
    const email = `${unique("racer")}@example.com`;
    const invitation = await admin.invite.create({ email, role: null });
    const { ok, errors } = await race(
      PASSWORDS.map((password) => h.call().invite.accept({ token: invitation.token, password })),
    );
    expect(ok).toHaveLength(1);
    expect(errors.map((e) => e.code)).toEqual(Array(9).fill("BAD_REQUEST"));
    expect(await sql("select id from users where lower(email) = lower(?)", [email])).toHaveLength(1);
    expect(
      await sql("select ra.id from role_assignments ra join users u on u.id = ra.user_id where u.email = ?", [email]),
    ).toHaveLength(0);
  });

  it("two ADMINs revoking each other at the same moment: never both; the tenant keeps an ADMIN", async () => {
    for (let round = 0; round < 5; round++) {
      const a = await signUp(h);
      const bEmail = `${unique("second-admin")}@example.com`;
      const invitation = await a.admin.invite.create({ email: bEmail, role: "ADMIN" });
      await h.call().invite.accept({ token: invitation.token, password: STRONG_PASSWORD });
      const { token: bToken } = await h.call().auth.login({ email: bEmail, password: STRONG_PASSWORD });
      const b = h.call(bToken);

      const admins = await a.admin.role.list({ role: "ADMIN" });
      expect(admins).toHaveLength(2);
      const aAssignment = admins.find((x) => x.userId === a.adminId);
      const bAssignment = admins.find((x) => x.userId !== a.adminId);
      if (!aAssignment || !bAssignment) throw new Error("both ADMIN assignments should be listed");

      // A revokes B, B revokes A; alternate which call is issued first.
      const calls =
        round % 2 === 0
          ? [a.admin.role.revoke({ id: bAssignment.id }), b.role.revoke({ id: aAssignment.id })]
          : [b.role.revoke({ id: aAssignment.id }), a.admin.role.revoke({ id: bAssignment.id })];
      h.resetQueries();
      const { ok, errors } = await race(calls);
      // Both calls reached the tenant lock: the guard, not the role check, decided.
      expect(
        h.queries.filter((q) => /from tenants .* for no key update/s.test(q)),
        `round ${round}`,
      ).toHaveLength(2);

      expect(ok, `round ${round}`).toHaveLength(1);
      expect(errors, `round ${round}`).toHaveLength(1);
      expect(errors[0]?.code, `round ${round}: ${errors[0]?.message}`).toBe("BAD_REQUEST");
      expect(errors[0]?.message).toContain("last ADMIN");

      const left = await sql<{ id: string }>("select id from role_assignments where tenant_id = ? and role = 'ADMIN'", [
        a.tenant.id,
      ]);
      expect(left, `round ${round}`).toHaveLength(1);
      expect([aAssignment.id, bAssignment.id]).toContain(left[0]?.id);
    }
  });

  it("5 concurrent grants of the same (user, role): one succeeds, the rest are a unique-set error, one row", async () => {
    const { admin } = await signUp(h);
    const email = `${unique("grantee")}@example.com`;
    const invitation = await admin.invite.create({ email, role: null });
    const user = await h.call().invite.accept({ token: invitation.token, password: STRONG_PASSWORD });

    h.resetQueries();
    const { ok, errors } = await race(
      Array.from({ length: 5 }, () => admin.role.grant({ userId: user.id, role: "VIEWER" })),
    );
    // All five tried the insert: the database's unique (user, role) decided.
    expect(h.queries.filter((q) => q.startsWith('insert into "role_assignments"'))).toHaveLength(5);

    expect(ok).toHaveLength(1);
    expect(ok[0]).toMatchObject({ userId: user.id, role: "VIEWER" });
    expect(errors).toHaveLength(4);
    for (const error of errors) {
      expect(error.code).toBe("BAD_REQUEST");
      expect(errorDetails(error).fieldErrors).toEqual({
        nonFieldErrors: ["The fields user, role must make a unique set."],
      });
    }
    const rows = await sql<{ id: string }>("select id from role_assignments where user_id = ? and role = 'VIEWER'", [
      user.id,
    ]);
    expect(rows.map((r) => r.id)).toEqual([ok[0]?.id]);
  });

  it("5 concurrent invites of one email: one stays pending, the rest are revoked, only its token is accepted", async () => {
    const { admin, tenant } = await signUp(h);
    const email = `${unique("popular")}@example.com`;

    // Whether every call succeeds is the next test's concern; here, the end state.
    const settled = await Promise.allSettled(
      Array.from({ length: 5 }, () => admin.invite.create({ email, role: "VIEWER" })),
    );
    const ok = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    expect(ok.length).toBeGreaterThanOrEqual(1);

    const rows = await sql<{ id: string; state: string }>(
      "select id, state from invitations where tenant_id = ? and lower(email) = lower(?)",
      [tenant.id, email],
    );
    // Every invitation that was answered exists; a failed call left nothing behind.
    expect(rows.map((r) => r.id).sort()).toEqual(ok.map((i) => i.id).sort());
    const pending = rows.filter((r) => r.state === "pending");
    expect(pending).toHaveLength(1);
    expect(rows.filter((r) => r.state === "revoked")).toHaveLength(rows.length - 1);
    expect((await admin.invite.list({ status: "pending" })).filter((i) => i.email === email)).toHaveLength(1);

    const winner = ok.find((i) => i.id === pending[0]?.id);
    if (!winner) throw new Error("the pending invitation should be one that was returned");
    for (const loser of ok.filter((i) => i !== winner)) {
      const error = await h
        .call()
        .invite.accept({ token: loser.token, password: STRONG_PASSWORD })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TRPCError);
      expect(errorDetails(error as TRPCError).fieldErrors).toEqual({ token: ["Invalid or revoked invitation token."] });
    }
    const user = await h.call().invite.accept({ token: winner.token, password: STRONG_PASSWORD });
    expect(user).toMatchObject({ email, roles: ["VIEWER"] });
  });

  it("5 concurrent invites of one email all succeed: each replaces the previous, none is a server error", async () => {
    const { admin, tenant } = await signUp(h);
    for (let round = 0; round < 3; round++) {
      const email = `${unique("popular")}@example.com`;
      const { ok, errors } = await race(Array.from({ length: 5 }, () => admin.invite.create({ email, role: null })));
      expect(
        errors.map((e) => `${e.code}: ${e.message.slice(0, 60)}…`),
        `round ${round}: a re-invite replaces the pending invitation (API.md), also under contention`,
      ).toEqual([]);
      expect(ok).toHaveLength(5);
      const states = await sql<{ state: string }>(
        "select state from invitations where tenant_id = ? and email = ? order by state",
        [tenant.id, email],
      );
      expect(states.map((r) => r.state)).toEqual(["pending", "revoked", "revoked", "revoked", "revoked"]);
    }
  });

  it("5 concurrent sign-ups whose names differ only in case: one tenant, the rest a `name` error", async () => {
    const base = unique("Case Race");
    const names = [base, base.toUpperCase(), base.toLowerCase(), `${base.slice(0, 4).toUpperCase()}${base.slice(4)}`];
    names.push(names[0]?.replace(/a/g, "A") ?? "");
    expect(new Set(names).size).toBe(5);

    const domain = `${unique("case").toLowerCase()}.example.com`;
    const { ok, errors } = await race(
      names.map((name, i) =>
        h.call().tenant.create({
          name,
          adminEmail: `owner${i}@${domain}`,
          adminPassword: STRONG_PASSWORD,
        }),
      ),
    );

    expect(ok).toHaveLength(1);
    expect(errors).toHaveLength(4);
    for (const error of errors) {
      expect(error.code).toBe("BAD_REQUEST");
      expect(errorDetails(error).fieldErrors).toEqual({ name: ["A tenant with this name already exists."] });
    }
    const tenants = await sql("select id from tenants where lower(name) = lower(?)", [base]);
    expect(tenants).toHaveLength(1);
    // The losers left nothing behind: no orphan admin users.
    const users = await sql<{ tenant_id: string }>("select tenant_id from users where email like ?", [`%@${domain}`]);
    expect(users.map((u) => u.tenant_id)).toEqual([ok[0]?.id]);
  });

  it("concurrent sign-ups of different names with one slug all succeed, each with its own slug", async () => {
    const names = ["Acme Inc", "Acme, Inc.", "ACME-inc"];
    const { ok, errors } = await race(
      names.map((name, i) =>
        h.call().tenant.create({
          name,
          adminEmail: `owner${i}@${unique("slug")}.example.com`,
          adminPassword: STRONG_PASSWORD,
        }),
      ),
    );
    expect(errors.map((e) => e.message)).toEqual([]);
    expect(ok.map((t) => t.name).sort()).toEqual([...names].sort());
    const slugs = ok.map((t) => t.slug);
    expect(new Set(slugs).size).toBe(3);
    expect(slugs.sort()).toEqual(["acme-inc", "acme-inc-2", "acme-inc-3"]);
  });

  itTwoPools("an accept that read the invitation before a resend cannot claim it with the old token", async () => {
    const { admin, tenant } = await signUp(h);
    const email = `${unique("superseded")}@example.com`;
    const invitation = await admin.invite.create({ email, role: "ANALYST" });

    // The accept runs on a pool of one connection. Right after it reads the invitation by its
    // token, the test takes that connection and holds it while the resend commits, so the
    // accept's claim runs only after the token was replaced.
    const tokenRead = gate();
    const resendCommitted = gate();
    let held: Promise<unknown> | undefined;
    let armed = true;
    const single = await openDatabase(h.testDb.target, {
      poolSize: 1,
      migrate: false,
      onQuery: (query) => {
        if (armed && /^select .* from invitations where token_hash = /s.test(query)) {
          armed = false;
          held = single.orm.em.fork().transactional(async (em) => {
            await em.getConnection().execute("select 1", [], "all", em.getTransactionContext());
            await resendCommitted.promise;
          });
          tokenRead.open();
        }
      },
    });
    try {
      const accepting = Promise.allSettled([
        createCaller(
          createContext(
            { ...h.running.services, orm: single.orm },
            { token: null, ip: "198.51.100.9", userAgent: "vitest" },
          ),
        ).invite.accept({ token: invitation.token, password: STRONG_PASSWORD }),
      ]);
      await tokenRead.promise;
      const resent = await admin.invite.resend({ id: invitation.id });
      resendCommitted.open();
      await held;
      const [outcome] = await accepting;

      expect(outcome?.status).toBe("rejected");
      const error = (outcome as PromiseRejectedResult).reason as TRPCError;
      expect(error.code).toBe("BAD_REQUEST");
      expect(errorDetails(error).fieldErrors).toEqual({ token: ["Invalid or revoked invitation token."] });
      expect(await sql("select id from users where tenant_id = ? and email = ?", [tenant.id, email])).toHaveLength(0);
      const [row] = await sql<{ state: string }>("select state from invitations where id = ?", [invitation.id]);
      expect(row?.state).toBe("pending");
      // The new token is the one that works.
      const user = await h.call().invite.accept({ token: resent.token, password: STRONG_PASSWORD });
      expect(user).toMatchObject({ email, roles: ["ANALYST"] });
    } finally {
      resendCommitted.open();
      await held;
      await single.close();
    }
  });

  it("a concurrent accept and revoke of one invitation leave a consistent end state", async () => {
    const { admin, tenant } = await signUp(h);
    const outcomes: string[] = [];
    for (let round = 0; round < 6; round++) {
      const email = `${unique("contested")}@example.com`;
      const invitation = await admin.invite.create({ email, role: "ANALYST" });
      // Alternate which of the two is issued first.
      const accept = () => h.call().invite.accept({ token: invitation.token, password: STRONG_PASSWORD });
      const revoke = () => admin.invite.revoke({ id: invitation.id });
      const [accepted, revoked] =
        round % 2 === 0
          ? await Promise.allSettled([accept(), revoke()])
          : await Promise.allSettled([revoke(), accept()]).then(([r, a]) => [a, r] as const);

      const [row] = await sql<{ state: string; accepted_at: Date | null }>(
        "select state, accepted_at from invitations where id = ?",
        [invitation.id],
      );
      const users = await sql<{ id: string }>("select id from users where tenant_id = ? and email = ?", [
        tenant.id,
        email,
      ]);
      const roles = await sql(
        "select ra.id from role_assignments ra join users u on u.id = ra.user_id where u.email = ?",
        [email],
      );

      if (row?.state === "accepted") {
        outcomes.push("accepted");
        expect(accepted?.status).toBe("fulfilled");
        expect(revoked?.status).toBe("rejected");
        const error = (revoked as PromiseRejectedResult).reason as TRPCError;
        expect(error.code).toBe("BAD_REQUEST");
        expect(error.message).toBe("An accepted invitation cannot be revoked.");
        expect(row.accepted_at).not.toBeNull();
        expect(users).toHaveLength(1);
        expect(roles).toHaveLength(1);
      } else {
        outcomes.push("revoked");
        expect(row?.state).toBe("revoked");
        expect(revoked?.status).toBe("fulfilled");
        expect(accepted?.status).toBe("rejected");
        const error = (accepted as PromiseRejectedResult).reason as TRPCError;
        expect(error.code).toBe("BAD_REQUEST");
        expect(errorDetails(error).fieldErrors).toEqual({ token: ["Invalid or revoked invitation token."] });
        expect(row?.accepted_at).toBeNull();
        expect(users).toHaveLength(0);
        expect(roles).toHaveLength(0);
      }
    }
    expect(outcomes).toHaveLength(6);
  });
});

describe("the email outbox with more than one worker", () => {
  let h: Harness;
  const calls = new Map<string, number>();
  beforeAll(async () => {
    h = await createHarness({
      throttle: false,
      hook: (email) => {
        calls.set(email.invitationId, (calls.get(email.invitationId) ?? 0) + 1);
      },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function inviteMany(count: number): Promise<string[]> {
    const { admin } = await signUp(h);
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      ids.push((await admin.invite.create({ email: `${unique("bulk")}@example.com`, role: "VIEWER" })).id);
    }
    return ids;
  }

  it("two concurrent passes of one worker never deliver an invitation twice", async () => {
    const ids = await inviteMany(30);
    const handled = await Promise.all([
      h.running.delivery.runOnce(),
      h.running.delivery.runOnce(),
      h.running.delivery.runOnce(),
    ]);
    // A batch is 20: together the passes cover the 30 and share none.
    expect(handled.reduce((a, b) => a + b, 0)).toBe(30);
    for (const id of ids) expect(calls.get(id), id).toBe(1);
    expect(await h.deliverEmails()).toBe(0);
    for (const id of ids) expect(calls.get(id), id).toBe(1);
  });

  itTwoPools("two service instances (separate pools, one SECRET_KEY) never deliver an invitation twice", async () => {
    const env = loadEnv({ NODE_ENV: "test", THROTTLE: "off", SECRET_KEY: randomBytes(24).toString("hex") });
    const logger = createLogger("silent");
    const received: Record<string, InvitationEmail[]> = { one: [], two: [] };
    const secondDb = await openDatabase(h.testDb.target, { poolSize: 4 });
    try {
      const one = await createServices(env, h.db, logger, {
        clock: h.clock,
        hook: (email) => {
          received.one?.push(email);
        },
      });
      const two = await createServices(env, secondDb, logger, {
        clock: h.clock,
        hook: (email) => {
          received.two?.push(email);
        },
      });
      const call = (token: string | null) =>
        createCaller(createContext(one.services, { token, ip: "198.51.100.1", userAgent: "vitest" }));
      const adminEmail = `${unique("owner")}@example.com`;
      await call(null).tenant.create({ name: unique("Two Workers"), adminEmail, adminPassword: STRONG_PASSWORD });
      const { token } = await call(null).auth.login({ email: adminEmail, password: STRONG_PASSWORD });
      const invited: { id: string; token: string }[] = [];
      for (let i = 0; i < 40; i++) {
        invited.push(await call(token).invite.create({ email: `${unique("pair")}@example.com`, role: null }));
      }

      const handled = await Promise.all([one.delivery.runOnce(), two.delivery.runOnce()]);
      expect(handled).toEqual([20, 20]);
      expect(await Promise.all([one.delivery.runOnce(), two.delivery.runOnce()])).toEqual([0, 0]);

      const all = [...(received.one ?? []), ...(received.two ?? [])];
      expect(all).toHaveLength(40);
      expect(new Set(all.map((e) => e.invitationId)).size).toBe(40);
      // Each worker opened the other's sealed token: every email carries its own token.
      for (const invitation of invited) {
        const email = all.find((e) => e.invitationId === invitation.id);
        expect(new URLSearchParams(new URL(email?.acceptUrl ?? "http://x").hash.slice(1)).get("token")).toBe(
          invitation.token,
        );
      }
      // The harness's own worker (another key) never sees them: they are no longer pending.
      expect(await h.deliverEmails()).toBe(0);
    } finally {
      await secondDb.close();
    }
  });

  it("a delivery in flight (hook not yet returned) is not claimed by another worker", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let slowCalls = 0;
    let notifyCalled: () => void = () => {};
    const called = new Promise<void>((resolve) => {
      notifyCalled = resolve;
    });
    const env = loadEnv({ NODE_ENV: "test", THROTTLE: "off", SECRET_KEY: randomBytes(24).toString("hex") });
    const logger = createLogger("silent");
    const one = await createServices(env, h.db, logger, {
      clock: h.clock,
      hook: async () => {
        slowCalls++;
        notifyCalled();
        await gate;
      },
    });
    let otherCalls = 0;
    const two = await createServices(env, h.db, logger, {
      clock: h.clock,
      hook: () => {
        otherCalls++;
      },
    });
    const call = (token: string | null) =>
      createCaller(createContext(one.services, { token, ip: "198.51.100.2", userAgent: "vitest" }));
    const adminEmail = `${unique("owner")}@example.com`;
    await call(null).tenant.create({ name: unique("Slow Hook"), adminEmail, adminPassword: STRONG_PASSWORD });
    const { token } = await call(null).auth.login({ email: adminEmail, password: STRONG_PASSWORD });
    const invitation = await call(token).invite.create({ email: `${unique("slow")}@example.com`, role: null });

    const first = one.delivery.runOnce();
    await called;
    expect(await two.delivery.runOnce()).toBe(0);
    expect(await one.delivery.runOnce()).toBe(0);
    release();
    expect(await first).toBe(1);
    expect(slowCalls).toBe(1);
    expect(otherCalls).toBe(0);
    const [listed] = (await call(token).invite.list()).filter((i) => i.id === invitation.id);
    expect(listed?.emailDelivery).toBe("sent");
  });
});
