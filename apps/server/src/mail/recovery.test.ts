import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEnv } from "../env.js";
import { createServices, type ServiceOverrides } from "../services.js";
import { createHarness, type Harness, STRONG_PASSWORD, unique } from "../test-support/harness.js";
import { createContext } from "../trpc/context.js";
import { createCaller } from "../trpc/router.js";
import { DEFAULT_RETRY_DELAYS_MS } from "./delivery.js";
import type { InvitationEmail } from "./hook.js";
import { capturedLogger, DAY_MS, deliveryRow, gate, tokenOf } from "./test-support/outbox.js";

describe("recovering the outbox", () => {
  let h: Harness;
  /** One deployment's configuration: every worker below shares its key unless told otherwise. */
  const env = loadEnv({ NODE_ENV: "test", THROTTLE: "off", SECRET_KEY: randomBytes(24).toString("hex") });
  const LEASE_MS = 120_000;
  const stops: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    h = await createHarness({ throttle: false });
  });
  afterAll(async () => {
    for (const stop of stops) await stop();
    await h?.close();
  });

  /** A worker on the shared database, as another server process would run it. */
  async function worker(
    hook: (email: InvitationEmail) => unknown,
    overrides: ServiceOverrides = {},
    workerEnv: typeof env = env,
  ) {
    const log = capturedLogger();
    const running = await createServices(workerEnv, h.db, log.logger, { clock: h.clock, hook, ...overrides });
    stops.push(() => running.stop());
    return { running, log };
  }

  type Running = Awaited<ReturnType<typeof worker>>["running"];
  const callerOn = (running: Running, token: string | null) =>
    createCaller(createContext(running.services, { token, ip: "192.0.2.9", userAgent: "vitest" }));

  /** Signs a tenant up through `running` and invites one address; the token is sealed with its key. */
  async function invite(running: Running) {
    const call = (token: string | null) => callerOn(running, token);
    const adminEmail = `${unique("owner")}@example.com`;
    await call(null).tenant.create({ name: unique("Recovery"), adminEmail, adminPassword: STRONG_PASSWORD });
    const { token } = await call(null).auth.login({ email: adminEmail, password: STRONG_PASSWORD });
    const admin = call(token);
    const invitation = await admin.invite.create({ email: `${unique("recover")}@example.com`, role: "VIEWER" });
    const status = async () => (await admin.invite.list()).find((i) => i.id === invitation.id);
    return { adminToken: token, invitation, status };
  }

  /** A hook whose calls wait until `release`; `entered` resolves at the first call. */
  function stuckHook() {
    const entered = gate();
    const release = gate();
    let fail: Error | undefined;
    const calls: InvitationEmail[] = [];
    return {
      calls,
      entered: entered.promise,
      release(error?: Error) {
        fail = error;
        release.open();
      },
      hook: async (email: InvitationEmail) => {
        calls.push(email);
        entered.open();
        await release.promise;
        if (fail) throw fail;
      },
    };
  }

  it("a claim whose worker died comes back after the lease and is delivered once", async () => {
    const dead = stuckHook();
    const crashed = await worker(dead.hook);
    const received: InvitationEmail[] = [];
    const live = await worker((email) => {
      received.push(email);
    });
    const { invitation, status } = await invite(live.running);

    // The first worker claims the email and never comes back.
    const abandoned = crashed.running.delivery.runOnce();
    await dead.entered;
    expect(await deliveryRow(h, invitation.id)).toMatchObject({ email_delivery: "pending", delivery_attempts: 1 });
    expect(await live.running.delivery.runOnce()).toBe(0);
    h.clock.advance(LEASE_MS - 1);
    expect(await live.running.delivery.runOnce()).toBe(0);
    h.clock.advance(1);
    expect(await live.running.delivery.runOnce()).toBe(1);

    expect(received.map((e) => [e.invitationId, tokenOf(e), e.attempt])).toEqual([
      [invitation.id, invitation.token, 2],
    ]);
    expect(await status()).toMatchObject({ status: "pending", emailDelivery: "sent" });
    h.clock.advance(DAY_MS);
    expect(await live.running.delivery.runOnce()).toBe(0);
    expect(received).toHaveLength(1);

    // Should the first worker wake after all, its late outcome changes nothing.
    dead.release(new Error("connection reset"));
    expect(await abandoned).toBe(1);
    expect(await deliveryRow(h, invitation.id)).toMatchObject({
      email_delivery: "sent",
      delivery_attempts: 2,
      delivery_last_error: null,
      delivery_token_ciphertext: null,
    });
    expect(dead.calls).toHaveLength(1);
  });

  it("a worker that outlived its lease cannot cut short the claim of the worker that took over", async () => {
    const first = stuckHook();
    const one = await worker(first.hook);
    const second = stuckHook();
    const two = await worker(second.hook);
    const others: InvitationEmail[] = [];
    const three = await worker((email) => {
      others.push(email);
    });
    const { invitation, status } = await invite(three.running);

    const firstPass = one.running.delivery.runOnce();
    await first.entered;
    h.clock.advance(LEASE_MS);
    const secondPass = two.running.delivery.runOnce();
    await second.entered;

    // The first worker's hook fails late: a retry of its claim would re-open the email in 5 s.
    first.release(new Error("SMTP 421 closing"));
    expect(await firstPass).toBe(1);
    expect(await deliveryRow(h, invitation.id)).toMatchObject({ delivery_attempts: 2, delivery_last_error: null });
    h.clock.advance(DEFAULT_RETRY_DELAYS_MS[0] ?? 0);
    expect(await three.running.delivery.runOnce()).toBe(0);
    expect(others).toEqual([]);

    second.release();
    expect(await secondPass).toBe(1);
    expect(await status()).toMatchObject({ emailDelivery: "sent" });
    expect(second.calls.map((e) => [tokenOf(e), e.attempt])).toEqual([[invitation.token, 2]]);
  });

  it("a hook that hangs past its timeout is given up on, recorded, and retried", async () => {
    const stuck = stuckHook();
    const delivered: InvitationEmail[] = [];
    let calls = 0;
    const live = await worker(
      (email) => {
        calls += 1;
        if (calls === 1) return stuck.hook(email);
        delivered.push(email);
        return undefined;
      },
      { hookTimeoutMs: 50, retryDelaysMs: [1000] },
    );
    const { invitation, status } = await invite(live.running);

    expect(await live.running.delivery.runOnce()).toBe(1);
    expect(await deliveryRow(h, invitation.id)).toMatchObject({
      email_delivery: "pending",
      delivery_attempts: 1,
      delivery_last_error: "the hook did not finish within 50 ms",
    });
    expect(await status()).toMatchObject({ status: "pending", emailDelivery: "pending" });
    expect(live.log.lines().filter((line) => line.invitationId === invitation.id)).toEqual([
      expect.objectContaining({
        level: 40,
        msg: "invitation email will be retried",
        attempts: 1,
        reason: "the hook did not finish within 50 ms",
        retryInMs: 1000,
      }),
    ]);

    h.clock.advance(999);
    expect(await live.running.delivery.runOnce()).toBe(0);
    h.clock.advance(1);
    expect(await live.running.delivery.runOnce()).toBe(1);
    expect(delivered.map((e) => [tokenOf(e), e.attempt])).toEqual([[invitation.token, 2]]);
    expect(await status()).toMatchObject({ emailDelivery: "sent" });

    // The hung call returning at last changes nothing.
    stuck.release();
    h.clock.advance(DAY_MS);
    expect(await live.running.delivery.runOnce()).toBe(0);
    expect(await deliveryRow(h, invitation.id)).toMatchObject({ email_delivery: "sent", delivery_attempts: 2 });
  });

  it("a token sealed under another SECRET_KEY: delivery `failed` once, audited and logged without secrets", async () => {
    const before = await worker(() => {
      throw new Error("the old deployment never delivers in this test");
    });
    const { adminToken, invitation, status } = await invite(before.running);
    const { delivery_token_ciphertext: sealed } = await deliveryRow(h, invitation.id);
    expect(sealed).toEqual(expect.any(String));

    const received: InvitationEmail[] = [];
    const rekeyed = loadEnv({ NODE_ENV: "test", THROTTLE: "off", SECRET_KEY: randomBytes(24).toString("hex") });
    const after = await worker(
      (email) => {
        received.push(email);
      },
      {},
      rekeyed,
    );
    expect(await after.running.delivery.runOnce()).toBe(1);
    expect(received).toEqual([]);
    const reason = "The sealed token cannot be opened: the server key changed.";
    expect(await deliveryRow(h, invitation.id)).toMatchObject({
      email_delivery: "failed",
      delivery_attempts: 1,
      delivery_last_error: reason,
      delivery_token_ciphertext: null,
    });
    expect(await status()).toMatchObject({ status: "pending", emailDelivery: "failed" });
    const events = await h.db.orm.em
      .fork()
      .getConnection()
      .execute<{ actor_type: string; details: Record<string, unknown> }[]>(
        "select actor_type, details from audit_events where action = 'email.delivery_failed' and target_id = ?",
        [invitation.id],
      );
    expect(events).toEqual([{ actor_type: "system", details: expect.objectContaining({ attempts: 1, reason }) }]);
    expect(after.log.lines().filter((line) => line.invitationId === invitation.id)).toEqual([
      expect.objectContaining({ level: 50, msg: "invitation email failed", attempts: 1, reason }),
    ]);
    expect(after.log.text()).not.toContain(invitation.token);
    expect(after.log.text()).not.toContain(sealed);

    // Not tried again, however long the worker runs.
    h.clock.advance(DAY_MS);
    expect(await after.running.delivery.runOnce()).toBe(0);
    expect(received).toEqual([]);

    // Re-sending on the new deployment seals a new token with its key, and that one goes out.
    const resent = await callerOn(after.running, adminToken).invite.resend({ id: invitation.id });
    expect(await after.running.delivery.runOnce()).toBe(1);
    expect(received.map((e) => [e.invitationId, tokenOf(e)])).toEqual([[invitation.id, resent.token]]);
    expect(await status()).toMatchObject({ emailDelivery: "sent" });
  });
});
