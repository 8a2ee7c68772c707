import { hashInvitationToken } from "@tenantry/auth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, STRONG_PASSWORD, signUp, unique } from "../test-support/harness.js";
import type { InvitationEmail } from "./hook.js";
import { DAY_MS, deliveryRow, gate, tokenOf } from "./test-support/outbox.js";

describe("the invitation email hook", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("receives recipient, tenant, role, expiry and an accept link with the token; pending → sent", async () => {
    const { admin, tenant } = await signUp(h);
    const analyst = await admin.invite.create({ email: "Ana.Lyst@Example.COM", role: "ANALYST" });
    const plain = await admin.invite.create({ email: `${unique("plain")}@example.com`, role: null });
    expect(analyst.emailDelivery).toBe("pending");
    expect(plain.emailDelivery).toBe("pending");
    expect((await admin.invite.list()).map((i) => i.emailDelivery)).toEqual(["pending", "pending"]);
    const before = h.emails.length;

    expect(await h.deliverEmails()).toBe(2);

    const sent = h.emails.slice(before);
    expect(sent).toHaveLength(2);
    const toAnalyst = sent.find((e) => e.invitationId === analyst.id);
    expect(toAnalyst).toEqual({
      invitationId: analyst.id,
      to: "ana.lyst@example.com",
      tenant: { id: tenant.id, name: tenant.name, slug: tenant.slug },
      role: "ANALYST",
      expiresAt: analyst.expiresAt,
      acceptUrl: expect.stringContaining("/accept-invite#token="),
      attempt: 1,
    });
    expect(tokenOf(toAnalyst)).toBe(analyst.token);
    const toPlain = sent.find((e) => e.invitationId === plain.id);
    expect(toPlain).toMatchObject({ to: plain.email, role: null, tenant: { id: tenant.id }, attempt: 1 });
    expect(tokenOf(toPlain)).toBe(plain.token);

    expect((await admin.invite.list()).map((i) => i.emailDelivery)).toEqual(["sent", "sent"]);
    // Sent once: another pass sends nothing.
    expect(await h.deliverEmails()).toBe(0);
    expect(h.emails).toHaveLength(before + 2);
  });

  it("a re-invite gets its own email with the new token and role", async () => {
    const { admin } = await signUp(h);
    const email = `${unique("again")}@example.com`;
    const first = await admin.invite.create({ email, role: "VIEWER" });
    await h.deliverEmails();
    const second = await admin.invite.create({ email, role: "ANALYST" });
    expect(second.id).not.toBe(first.id);
    expect(second.token).not.toBe(first.token);
    expect(second.emailDelivery).toBe("pending");
    await h.deliverEmails();

    const received = h.emails.filter((e) => e.to === email);
    expect(received.map((e) => [e.invitationId, e.role, tokenOf(e)])).toEqual([
      [first.id, "VIEWER", first.token],
      [second.id, "ANALYST", second.token],
    ]);
    const listed = (await admin.invite.list()).filter((i) => i.email === email);
    expect(listed.map((i) => [i.id, i.status, i.emailDelivery])).toEqual([
      [first.id, "revoked", "sent"],
      [second.id, "pending", "sent"],
    ]);
  });

  it("a re-invite before the first email went out sends only the new one", async () => {
    const { admin } = await signUp(h);
    const email = `${unique("quick")}@example.com`;
    const first = await admin.invite.create({ email, role: null });
    const second = await admin.invite.create({ email, role: "VIEWER" });
    await h.deliverEmails();
    const received = h.emails.filter((e) => e.to === email);
    expect(received.map((e) => [e.invitationId, tokenOf(e)])).toEqual([[second.id, second.token]]);
    const listed = (await admin.invite.list()).filter((i) => i.email === email);
    expect(listed.map((i) => [i.id, i.status, i.emailDelivery])).toEqual([
      [first.id, "revoked", "failed"],
      [second.id, "pending", "sent"],
    ]);
  });

  it("keeps the token only sealed while pending, and drops it once sent", async () => {
    const { admin } = await signUp(h);
    const invitation = await admin.invite.create({ email: `${unique("sealed")}@example.com`, role: "VIEWER" });

    const pending = await deliveryRow(h, invitation.id);
    expect(pending.email_delivery).toBe("pending");
    expect(pending.token_hash).toBe(hashInvitationToken(invitation.token));
    expect(pending.token_hash).toMatch(/^[0-9a-f]{64}$/);
    const sealed = pending.delivery_token_ciphertext;
    expect(sealed).toEqual(expect.any(String));
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain(invitation.token);
    expect(Buffer.from(sealed?.slice(3) ?? "", "base64url").toString("latin1")).not.toContain(invitation.token);
    for (const value of Object.values(pending)) expect(String(value)).not.toContain(invitation.token);

    await h.deliverEmails();
    const sent = await deliveryRow(h, invitation.id);
    expect(sent.email_delivery).toBe("sent");
    expect(sent.delivery_token_ciphertext).toBeNull();
    expect(tokenOf(h.emails.find((e) => e.invitationId === invitation.id))).toBe(invitation.token);
  });

  it("revoking an invitation whose email is still pending cancels the email", async () => {
    const { admin } = await signUp(h);
    const email = `${unique("revoked")}@example.com`;
    const invitation = await admin.invite.create({ email, role: null });
    await admin.invite.revoke({ id: invitation.id });

    const [listed] = await admin.invite.list({ status: "revoked" });
    expect(listed).toMatchObject({ id: invitation.id, status: "revoked", emailDelivery: "failed" });
    expect((await deliveryRow(h, invitation.id)).delivery_token_ciphertext).toBeNull();
    await h.deliverEmails();
    h.clock.advance(DAY_MS);
    await h.deliverEmails();
    expect(h.emails.filter((e) => e.to === email || e.invitationId === invitation.id)).toEqual([]);
    expect((await admin.invite.list({ status: "revoked" }))[0]?.emailDelivery).toBe("failed");
  });

  it("accepting an invitation whose email is still pending cancels the email", async () => {
    const { admin } = await signUp(h);
    const email = `${unique("eager")}@example.com`;
    const invitation = await admin.invite.create({ email, role: "VIEWER" });
    await h.call().invite.accept({ token: invitation.token, password: STRONG_PASSWORD });

    const [listed] = await admin.invite.list({ status: "accepted" });
    expect(listed).toMatchObject({ id: invitation.id, status: "accepted", emailDelivery: "failed" });
    expect((await deliveryRow(h, invitation.id)).delivery_token_ciphertext).toBeNull();
    await h.deliverEmails();
    expect(h.emails.filter((e) => e.to === email || e.invitationId === invitation.id)).toEqual([]);
  });
});

describe("delivery off the request path", () => {
  it("invite.create returns while the hook is still running; the hook sees the committed row", async () => {
    const hookEntered = gate();
    const release = gate();
    const seen: { email: InvitationEmail; committed: boolean }[] = [];
    let h: Harness | undefined;
    h = await createHarness({
      hook: async (email) => {
        const rows = await (h as Harness).db.orm.em
          .fork()
          .getConnection()
          .execute("select 1 from invitations where id = ?", [email.invitationId]);
        seen.push({ email, committed: rows.length === 1 });
        hookEntered.open();
        await release.promise;
      },
    });
    try {
      const { admin } = await signUp(h);
      h.running.delivery.start();

      // If the request waited for the hook it would never return (the hook waits for `release`).
      const created = await admin.invite.create({ email: `${unique("prompt")}@example.com`, role: "ANALYST" });
      expect(created.emailDelivery).toBe("pending");

      // The background worker was woken by the commit and is now inside the hook.
      await hookEntered.promise;
      expect(seen.map((s) => [s.email.invitationId, s.committed])).toEqual([[created.id, true]]);
      expect(tokenOf(seen[0]?.email)).toBe(created.token);
      expect((await admin.invite.list())[0]?.emailDelivery).toBe("pending");
      // The invitation is usable at once, before any email went out.
      const second = await admin.invite.create({ email: `${unique("prompt")}@example.com`, role: null });
      expect(second.emailDelivery).toBe("pending");

      release.open();
      await h.running.delivery.stop();
      const listed = await admin.invite.list();
      expect(listed.find((i) => i.id === created.id)?.emailDelivery).toBe("sent");
      expect(seen).toHaveLength(listed.filter((i) => i.emailDelivery === "sent").length);
    } finally {
      release.open();
      await h.close();
    }
  }, 15_000);
});

describe("a hook that throws", () => {
  let h: Harness;
  /** Remaining failures per recipient; absent means the hook succeeds. */
  const failures = new Map<string, number>();
  const calls: { to: string; attempt: number; at: number }[] = [];
  const delivered: InvitationEmail[] = [];
  beforeAll(async () => {
    h = await createHarness({
      retryDelaysMs: [1000, 2000],
      hook: (email) => {
        calls.push({ to: email.to, attempt: email.attempt, at: h.clock.now().getTime() });
        const left = failures.get(email.to) ?? 0;
        if (left > 0) {
          failures.set(email.to, left - 1);
          if (email.to.startsWith("async")) return Promise.reject(new Error(`SMTP 451 for ${email.acceptUrl}`));
          throw new Error(`SMTP 550 mailbox unavailable; link was ${email.acceptUrl}`);
        }
        delivered.push(email);
        return undefined;
      },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  const callsTo = (to: string) => calls.filter((c) => c.to === to);

  it("is retried after each delay, not before; after the last retry delivery is `failed`; the invitation survives", async () => {
    const { admin } = await signUp(h);
    const to = `${unique("always")}@example.com`;
    failures.set(to, Number.POSITIVE_INFINITY);
    const invitation = await admin.invite.create({ email: to, role: "ANALYST" });
    const t0 = h.clock.now().getTime();
    const status = async () => (await admin.invite.list()).find((i) => i.id === invitation.id);

    expect(await h.deliverEmails()).toBe(1);
    expect(callsTo(to).map((c) => c.attempt)).toEqual([1]);
    expect(await status()).toMatchObject({ status: "pending", emailDelivery: "pending" });
    const afterFirst = await deliveryRow(h, invitation.id);
    expect(afterFirst).toMatchObject({ email_delivery: "pending", delivery_attempts: 1 });
    expect(afterFirst.delivery_token_ciphertext).not.toBeNull();
    expect(afterFirst.delivery_last_error).toContain("SMTP 550 mailbox unavailable");

    // Not before the first delay.
    expect(await h.deliverEmails()).toBe(0);
    h.clock.advance(999);
    expect(await h.deliverEmails()).toBe(0);
    expect(callsTo(to)).toHaveLength(1);
    h.clock.advance(1);
    expect(await h.deliverEmails()).toBe(1);
    expect(callsTo(to).map((c) => [c.attempt, c.at - t0])).toEqual([
      [1, 0],
      [2, 1000],
    ]);
    expect(await status()).toMatchObject({ emailDelivery: "pending" });

    // Not before the second delay.
    h.clock.advance(1999);
    expect(await h.deliverEmails()).toBe(0);
    expect(callsTo(to)).toHaveLength(2);
    h.clock.advance(1);
    expect(await h.deliverEmails()).toBe(1);
    expect(callsTo(to).map((c) => [c.attempt, c.at - t0])).toEqual([
      [1, 0],
      [2, 1000],
      [3, 3000],
    ]);

    // That was the last retry.
    expect(await status()).toMatchObject({ status: "pending", emailDelivery: "failed" });
    const failed = await deliveryRow(h, invitation.id);
    expect(failed).toMatchObject({ email_delivery: "failed", delivery_attempts: 3, delivery_token_ciphertext: null });
    expect(failed.delivery_last_error).toContain("SMTP 550 mailbox unavailable");
    h.clock.advance(DAY_MS);
    expect(await h.deliverEmails()).toBe(0);
    expect(callsTo(to)).toHaveLength(3);

    // The log tells the story: two retries, then the failure.
    const story = h
      .logLines()
      .filter((line) => line.invitationId === invitation.id)
      .map((line) => [line.msg, line.retryInMs]);
    expect(story).toEqual([
      ["invitation email will be retried", 1000],
      ["invitation email will be retried", 2000],
      ["invitation email failed", undefined],
    ]);

    // The invitation is not lost: still listed, still acceptable.
    expect((await admin.invite.list({ status: "pending" })).map((i) => i.id)).toContain(invitation.id);
    const user = await h.call().invite.accept({ token: invitation.token, password: STRONG_PASSWORD });
    expect(user).toMatchObject({ email: to, roles: ["ANALYST"] });
  });

  it("a hook that fails once (rejecting) and then succeeds ends `sent`", async () => {
    const { admin } = await signUp(h);
    const to = `async-${unique("once")}@example.com`;
    failures.set(to, 1);
    const invitation = await admin.invite.create({ email: to, role: null });

    expect(await h.deliverEmails()).toBe(1);
    expect((await admin.invite.list())[0]).toMatchObject({ id: invitation.id, emailDelivery: "pending" });
    expect((await deliveryRow(h, invitation.id)).delivery_last_error).toContain("SMTP 451");
    h.clock.advance(500);
    expect(await h.deliverEmails()).toBe(0);
    h.clock.advance(500);
    expect(await h.deliverEmails()).toBe(1);

    expect(callsTo(to).map((c) => c.attempt)).toEqual([1, 2]);
    const email = delivered.find((e) => e.invitationId === invitation.id);
    expect(email?.attempt).toBe(2);
    expect(tokenOf(email)).toBe(invitation.token);
    expect((await admin.invite.list())[0]).toMatchObject({ status: "pending", emailDelivery: "sent" });
    expect((await deliveryRow(h, invitation.id)).delivery_token_ciphertext).toBeNull();
    h.clock.advance(DAY_MS);
    expect(await h.deliverEmails()).toBe(0);
    expect(callsTo(to)).toHaveLength(2);
    await h.call().invite.accept({ token: invitation.token, password: STRONG_PASSWORD });
  });

  it("never stores or logs the token, even when the hook's error quotes the link", async () => {
    const { admin } = await signUp(h);
    const to = `${unique("leaky")}@example.com`;
    failures.set(to, Number.POSITIVE_INFINITY);
    const invitation = await admin.invite.create({ email: to, role: null });
    await h.deliverEmails();
    const pending = await deliveryRow(h, invitation.id);
    expect(pending.delivery_last_error).toContain("[token]");
    for (const value of Object.values(pending)) expect(String(value)).not.toContain(invitation.token);
    h.clock.advance(1000);
    await h.deliverEmails();
    h.clock.advance(2000);
    await h.deliverEmails();
    const failed = await deliveryRow(h, invitation.id);
    expect(failed.email_delivery).toBe("failed");
    for (const value of Object.values(failed)) expect(String(value)).not.toContain(invitation.token);
    expect(JSON.stringify(h.logLines())).not.toContain(invitation.token);
    expect(h.logLines().filter((line) => line.invitationId === invitation.id)).toHaveLength(3);
  });

  it("revoking during the retries cancels them", async () => {
    const { admin } = await signUp(h);
    const to = `${unique("retracted")}@example.com`;
    failures.set(to, Number.POSITIVE_INFINITY);
    const invitation = await admin.invite.create({ email: to, role: null });
    await h.deliverEmails();
    expect(callsTo(to)).toHaveLength(1);
    await admin.invite.revoke({ id: invitation.id });
    expect((await admin.invite.list())[0]).toMatchObject({ status: "revoked", emailDelivery: "failed" });
    h.clock.advance(DAY_MS);
    expect(await h.deliverEmails()).toBe(0);
    expect(callsTo(to)).toHaveLength(1);
    expect((await deliveryRow(h, invitation.id)).delivery_token_ciphertext).toBeNull();
  });
});
