import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, STRONG_PASSWORD, signUp, unique } from "../test-support/harness.js";
import { DEFAULT_RETRY_DELAYS_MS } from "./delivery.js";
import type { InvitationEmail } from "./hook.js";
import { DAY_MS, deliveryRow, gate, tokenOf } from "./test-support/outbox.js";

describe("an invitation that changes while its email is in flight", () => {
  let h: Harness;
  /** Every hook call, in order. */
  const calls: InvitationEmail[] = [];
  /** Hook calls to hold until the test settles them, by recipient. */
  const held = new Map<string, { entered: () => void; outcome: Promise<void> }>();
  beforeAll(async () => {
    h = await createHarness({
      throttle: false,
      hook: async (email) => {
        calls.push(email);
        const hold = held.get(email.to);
        if (hold) {
          held.delete(email.to);
          hold.entered();
          await hold.outcome;
        }
      },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  /** The next email to `to` waits in the hook until `succeed` or `fail` is called. */
  function hold(to: string) {
    const entered = gate();
    let succeed: () => void = () => {};
    let fail: (error: Error) => void = () => {};
    const outcome = new Promise<void>((resolve, reject) => {
      succeed = resolve;
      fail = reject;
    });
    held.set(to, { entered: entered.open, outcome });
    return { entered: entered.promise, succeed, fail };
  }

  async function invited() {
    const { admin } = await signUp(h);
    const to = `${unique("inflight")}@example.com`;
    const invitation = await admin.invite.create({ email: to, role: "VIEWER" });
    const status = async () => (await admin.invite.list()).find((i) => i.id === invitation.id);
    return { admin, to, invitation, status };
  }

  it("a resend during delivery: the new token still goes out; the old delivery's finish does not mark it sent", async () => {
    const { admin, to, invitation, status } = await invited();
    const first = hold(to);
    const pass = h.deliverEmails();
    await first.entered;

    const resent = await admin.invite.resend({ id: invitation.id });
    first.succeed();
    expect(await pass).toBe(1);
    // The old email went out, but the new token has not: delivery is still pending.
    expect(await status()).toMatchObject({ status: "pending", emailDelivery: "pending" });
    expect((await deliveryRow(h, invitation.id)).delivery_token_ciphertext).not.toBeNull();

    expect(await h.deliverEmails()).toBe(1);
    expect(calls.filter((e) => e.to === to).map((e) => [tokenOf(e), e.attempt])).toEqual([
      [invitation.token, 1],
      [resent.token, 1],
    ]);
    expect(await status()).toMatchObject({ status: "pending", emailDelivery: "sent" });
    expect(await h.deliverEmails()).toBe(0);
    await h.call().invite.accept({ token: resent.token, password: STRONG_PASSWORD });
  });

  it("with the background worker running, a resend during delivery is delivered right after it", async () => {
    const { admin } = await signUp(h);
    const to = `${unique("worker")}@example.com`;
    const first = hold(to);
    const secondCall = gate();
    h.running.delivery.start();
    try {
      const invitation = await admin.invite.create({ email: to, role: null });
      await first.entered;
      const resent = await admin.invite.resend({ id: invitation.id });
      // The next call to this address is the new token's email: hold it only to see it arrive.
      held.set(to, { entered: secondCall.open, outcome: Promise.resolve() });
      first.succeed();
      await secondCall.promise;
      await h.running.delivery.stop();
      expect(calls.filter((e) => e.to === to).map(tokenOf)).toEqual([invitation.token, resent.token]);
      expect((await admin.invite.list()).find((i) => i.id === invitation.id)?.emailDelivery).toBe("sent");
    } finally {
      first.succeed();
      await h.running.delivery.stop();
    }
  });

  it("a resend during a delivery that then fails: the old failure neither delays nor marks the new delivery", async () => {
    const { admin, to, invitation, status } = await invited();
    const first = hold(to);
    const pass = h.deliverEmails();
    await first.entered;

    const resent = await admin.invite.resend({ id: invitation.id });
    first.fail(new Error("SMTP 421 try later"));
    expect(await pass).toBe(1);
    const row = await deliveryRow(h, invitation.id);
    expect(row).toMatchObject({ email_delivery: "pending", delivery_attempts: 0, delivery_last_error: null });

    // Due at once, as a fresh resend is, not after the old delivery's retry delay.
    expect(await h.deliverEmails()).toBe(1);
    expect(calls.filter((e) => e.to === to).map(tokenOf)).toEqual([invitation.token, resent.token]);
    expect(await status()).toMatchObject({ emailDelivery: "sent" });
  });

  it("a resend while the new email is also in flight: each delivery records only its own outcome", async () => {
    const { admin, to, invitation, status } = await invited();
    const first = hold(to);
    const firstPass = h.deliverEmails();
    await first.entered;
    const resent = await admin.invite.resend({ id: invitation.id });
    const second = hold(to);
    const secondPass = h.deliverEmails();
    await second.entered;

    // The new delivery fails first, the old one then succeeds: the new one is retried, not marked sent.
    second.fail(new Error("SMTP 451 greylisted"));
    expect(await secondPass).toBe(1);
    first.succeed();
    expect(await firstPass).toBe(1);
    expect(await status()).toMatchObject({ emailDelivery: "pending" });
    expect(await deliveryRow(h, invitation.id)).toMatchObject({
      email_delivery: "pending",
      delivery_attempts: 1,
      delivery_last_error: "SMTP 451 greylisted",
    });
    h.clock.advance(DEFAULT_RETRY_DELAYS_MS[0] ?? 0);
    expect(await h.deliverEmails()).toBe(1);
    expect(calls.filter((e) => e.to === to).map((e) => [tokenOf(e), e.attempt])).toEqual([
      [invitation.token, 1],
      [resent.token, 1],
      [resent.token, 2],
    ]);
    expect(await status()).toMatchObject({ emailDelivery: "sent" });
  });

  it("a revoke during delivery stays revoked with the email cancelled; nothing is sent again", async () => {
    const { admin, to, invitation, status } = await invited();
    const first = hold(to);
    const pass = h.deliverEmails();
    await first.entered;
    await admin.invite.revoke({ id: invitation.id });
    first.succeed();
    expect(await pass).toBe(1);
    expect(await status()).toMatchObject({ status: "revoked", emailDelivery: "failed" });
    expect((await deliveryRow(h, invitation.id)).delivery_last_error).toBe(
      "Cancelled: the invitation was revoked before delivery.",
    );
    h.clock.advance(DAY_MS);
    await h.deliverEmails();
    expect(calls.filter((e) => e.to === to)).toHaveLength(1);
  });

  it("an extend during delivery keeps the new expiry and the token; the email ends sent", async () => {
    const { admin, to, invitation, status } = await invited();
    const first = hold(to);
    const pass = h.deliverEmails();
    await first.entered;
    const extended = await admin.invite.extend({ id: invitation.id, days: 30 });
    first.succeed();
    expect(await pass).toBe(1);
    expect(await status()).toMatchObject({ status: "pending", emailDelivery: "sent", expiresAt: extended.expiresAt });
    expect(await h.deliverEmails()).toBe(0);
    await h.call().invite.accept({ token: invitation.token, password: STRONG_PASSWORD });
  });
});
