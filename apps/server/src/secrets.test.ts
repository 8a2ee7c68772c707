import { createHash } from "node:crypto";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, STRONG_PASSWORD, signUp, superuser, unique } from "./test-support/harness.js";
import { startReceiver } from "./test-support/webhook-receiver.js";
import { errorDetails } from "./trpc/errors.js";

const DAY_MS = 86_400_000;
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

async function rejection(promise: Promise<unknown>): Promise<TRPCError> {
  const error = await promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCError);
  return error as TRPCError;
}

describe("secrets are never stored or logged in plain text", () => {
  let h: Harness;
  /** Every reset token a hook was handed, also in the tries that failed. */
  const resetTokensSeen: string[] = [];
  beforeAll(async () => {
    h = await createHarness({
      // Fails for one address, quoting the link (and so the token) in its error.
      hook: (email) => {
        if (email.to.startsWith("bounce")) throw new Error(`mailbox full, could not send ${email.acceptUrl}`);
        h.emails.push(email);
      },
      // The first try of every reset email fails, quoting the link.
      resetHook: (email) => {
        resetTokensSeen.push(new URLSearchParams(new URL(email.resetUrl).hash.slice(1)).get("token") ?? "");
        if (email.attempt === 1) throw new Error(`mailbox busy, could not send ${email.resetUrl}`);
        h.resetEmails.push(email);
      },
      retryDelaysMs: [1000],
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function rows(table: string): Promise<Record<string, unknown>[]> {
    return h.db.orm.em.fork().getConnection().execute<Record<string, unknown>[]>(`select * from "${table}"`);
  }

  it("after a full flow no table and no log line holds a password, session token or invitation token", async () => {
    const adminPassword = `Admin-${unique("pw")}-Sesame`;
    const memberPassword = `Member-${unique("pw")}-Opens`;
    const wrongPassword = `Wrong-${unique("pw")}-Guess`;
    const name = unique("Secretive");
    const adminEmail = `owner@${name.toLowerCase()}.example.com`;

    // A webhook endpoint that receives every event of the flow.
    const receiver = await startReceiver();
    const staff = await superuser(h);
    const endpoint = await staff.caller.ops.createWebhook({ url: receiver.url });

    // Sign up, log in.
    const tenant = await h.call().tenant.create({ name, adminEmail, adminPassword });
    const adminLogin = await h.call().auth.login({ email: adminEmail, password: adminPassword });
    const admin = h.call(adminLogin.token);

    // Invite; deliver; accept; log in as the new user.
    const memberEmail = `member@${name.toLowerCase()}.example.com`;
    const invitation = await admin.invite.create({ email: memberEmail, role: "ANALYST" });
    // Another one whose email is still pending (its token waits sealed), and one that bounces.
    const waiting = await admin.invite.create({ email: `waiting@${name.toLowerCase()}.example.com`, role: null });
    const bouncing = await admin.invite.create({ email: `bounce@${name.toLowerCase()}.example.com`, role: null });
    const revoked = await admin.invite.create({ email: `gone@${name.toLowerCase()}.example.com`, role: null });
    await admin.invite.revoke({ id: revoked.id });
    await h.deliverEmails();
    expect(h.emails.map((e) => e.invitationId)).toEqual(expect.arrayContaining([invitation.id, waiting.id]));
    // Re-queue `waiting` so that its sealed token is in the table while we look.
    const again = await admin.invite.create({ email: `waiting@${name.toLowerCase()}.example.com`, role: "VIEWER" });
    const member = await h.call().invite.accept({ token: invitation.token, password: memberPassword });
    expect(member.roles).toEqual(["ANALYST"]);
    const memberLoginBeforeReset = await h.call().auth.login({ email: memberEmail, password: memberPassword });
    expect((await h.call(memberLoginBeforeReset.token).auth.me()).id).toBe(member.id);

    // Failures: a wrong password, a forbidden procedure, a spent token, a forged session token.
    const wrong = await rejection(h.call().auth.login({ email: memberEmail, password: wrongPassword }));
    expect(errorDetails(wrong).fieldErrors).toEqual({
      nonFieldErrors: ["Unable to log in with provided credentials."],
    });
    expect((await rejection(h.call(memberLoginBeforeReset.token).invite.create({ email: "x@example.com" }))).code).toBe(
      "FORBIDDEN",
    );
    expect((await rejection(h.call().invite.accept({ token: invitation.token, password: wrongPassword }))).code).toBe(
      "BAD_REQUEST",
    );
    // Password resets: one used (the member's), one waiting sealed for its retry (the admin's).
    // Each is delivered on its own, leaving the invitations' outbox as it is.
    const deliverResetOf = async (email: string) => {
      const [reset] = await h.db.orm.em
        .fork()
        .getConnection()
        .execute<{ id: string }[]>("select id from password_resets where email = ? and used_at is null", [email]);
      await h.running.delivery.runOnce(reset?.id);
    };
    const memberPasswordAfterReset = `Reset-${unique("pw")}-Anew`;
    await h.call().auth.requestPasswordReset({ email: memberEmail });
    await deliverResetOf(memberEmail);
    h.clock.advance(1000);
    await deliverResetOf(memberEmail);
    const memberReset = h.resetEmails.find((e) => e.to === memberEmail);
    const resetToken = new URLSearchParams(new URL(memberReset?.resetUrl ?? "").hash.slice(1)).get("token") ?? "";
    await h.call().auth.confirmPasswordReset({ token: resetToken, newPassword: memberPasswordAfterReset });
    await h.call().auth.requestPasswordReset({ email: adminEmail });
    await deliverResetOf(adminEmail);
    const resetRows = await rows("password_resets");
    expect(resetRows.map((row) => row.email_delivery).sort()).toEqual(["pending", "sent"]);
    const waitingReset = resetRows.find((row) => row.email_delivery === "pending");
    expect(waitingReset?.delivery_token_ciphertext).toMatch(/^v1\./);
    expect(waitingReset?.delivery_last_error).toBe(
      "mailbox busy, could not send http://127.0.0.1:3000/reset-password#token=[token]",
    );
    expect(resetRows.find((row) => row.email_delivery === "sent")?.token_hash).toBe(sha256(resetToken));
    const memberLoginAfterReset = await h.call().auth.login({ email: memberEmail, password: memberPasswordAfterReset });

    const [sessionId] = adminLogin.token.split(".");
    const forged = `${sessionId}.${"a".repeat(24)}`;
    expect((await rejection(h.call(forged).auth.me())).code).toBe("UNAUTHORIZED");

    const memberLogin = memberLoginAfterReset;
    const sessionSecrets = [adminLogin.token, memberLogin.token].map((token) => token.split(".")[1] ?? "");
    for (const secret of sessionSecrets) expect(secret).toMatch(/^[a-z2-9]{24}$/);
    const plainSecrets = {
      adminPassword,
      memberPassword,
      wrongPassword,
      adminSession: adminLogin.token,
      memberSession: memberLogin.token,
      adminSessionSecret: sessionSecrets[0] ?? "",
      memberSessionSecret: sessionSecrets[1] ?? "",
      invitationToken: invitation.token,
      waitingToken: waiting.token,
      againToken: again.token,
      bouncingToken: bouncing.token,
      revokedToken: revoked.token,
      // How the accept link carries it.
      encodedInvitationToken: encodeURIComponent(invitation.token),
      webhookSecret: endpoint.secret,
      webhookSecretKey: endpoint.secret.slice("whsec_".length),
      staffSession: staff.token,
      memberPasswordAfterReset,
      resetToken,
      // How the reset link carries it.
      encodedResetToken: encodeURIComponent(resetToken),
      memberSessionBeforeReset: memberLoginBeforeReset.token,
      ...Object.fromEntries(resetTokensSeen.map((token, i) => [`resetTokenSeen${i}`, token])),
    };
    // the member's token twice (failed, then sent) and the admin's once (failed, waiting for its retry)
    expect(new Set(resetTokensSeen).size).toBe(2);
    for (const value of Object.values(plainSecrets)) expect(value.length).toBeGreaterThanOrEqual(20);

    // Every row of every table.
    const tables = await h.db.orm.em
      .fork()
      .getConnection()
      .execute<{ table_name: string }[]>(
        "select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'",
      );
    const tableNames = tables.map((t) => t.table_name);
    expect(tableNames).toEqual(expect.arrayContaining(["users", "sessions", "invitations", "tenants"]));
    for (const table of tableNames) {
      for (const row of await rows(table)) {
        for (const [column, value] of Object.entries(row)) {
          const text = value instanceof Date ? value.toISOString() : String(value);
          for (const [secretName, secret] of Object.entries(plainSecrets)) {
            expect(text.includes(secret), `${table}.${column} holds ${secretName}`).toBe(false);
          }
        }
      }
    }

    // What is stored instead.
    const users = await rows("users");
    const ourUsers = users.filter((u) => u.tenant_id === tenant.id);
    expect(ourUsers).toHaveLength(2);
    for (const user of users) expect(user.password_hash).toMatch(/^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[^$]+\$[^$]+$/);
    const sessions = await rows("sessions");
    for (const session of sessions) expect(session.secret_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(sessions.map((s) => s.secret_hash)).toEqual(expect.arrayContaining(sessionSecrets.map(sha256)));
    const invitations = await rows("invitations");
    for (const row of invitations) expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
    const byId = new Map(invitations.map((row) => [row.id, row]));
    for (const created of [invitation, waiting, again, bouncing, revoked]) {
      expect(byId.get(created.id)?.token_hash).toBe(sha256(created.token));
    }
    // Only the undelivered invitations keep a sealed token; delivered, accepted and revoked ones keep none.
    expect(byId.get(invitation.id)?.delivery_token_ciphertext).toBeNull();
    expect(byId.get(waiting.id)?.delivery_token_ciphertext).toBeNull();
    expect(byId.get(revoked.id)?.delivery_token_ciphertext).toBeNull();
    expect(byId.get(again.id)?.delivery_token_ciphertext).toMatch(/^v1\./);
    expect(byId.get(bouncing.id)?.delivery_token_ciphertext).toMatch(/^v1\./);

    // Let the bouncing email fail for good, then read the whole log.
    h.clock.advance(1000);
    await h.deliverEmails();
    expect((await rows("invitations")).find((row) => row.id === bouncing.id)).toMatchObject({
      email_delivery: "failed",
      delivery_token_ciphertext: null,
    });
    // Every event went out as a webhook; no payload or header holds a secret or a hash.
    await h.deliverWebhooks();
    await receiver.close();
    expect(receiver.received.map((request) => JSON.parse(request.body).type)).toEqual(
      expect.arrayContaining(["tenant.created", "invitation.created", "invitation.accepted", "auth.login_failed"]),
    );
    const webhookText = JSON.stringify(receiver.received);
    const log = JSON.stringify(h.logLines());
    expect(h.logLines().filter((line) => line.invitationId === bouncing.id)).toHaveLength(2);
    const hashes = {
      ...Object.fromEntries(users.map((u, i) => [`passwordHash${i}`, String(u.password_hash)])),
      ...Object.fromEntries(sessions.map((s, i) => [`sessionSecretHash${i}`, String(s.secret_hash)])),
    };
    for (const [secretName, secret] of Object.entries({ ...plainSecrets, ...hashes })) {
      expect(log.includes(secret), `the log holds ${secretName}`).toBe(false);
      expect(webhookText.includes(secret), `a webhook holds ${secretName}`).toBe(false);
    }
  });
});

describe("expired invitations", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("expire after seven days, refuse to be accepted, and come back when extended", async () => {
    const { admin } = await signUp(h);
    const email = `${unique("late")}@example.com`;
    const invitation = await admin.invite.create({ email, role: "VIEWER" });
    const created = new Date(invitation.createdAt).getTime();
    expect(new Date(invitation.expiresAt).getTime()).toBe(created + 7 * DAY_MS);

    h.clock.advance(7 * DAY_MS - 1);
    expect((await admin.invite.list({ status: "pending" })).map((i) => i.id)).toEqual([invitation.id]);

    h.clock.advance(2);
    const [listed] = await admin.invite.list();
    expect(listed).toMatchObject({ id: invitation.id, status: "expired" });
    expect((await admin.invite.list({ status: "expired" })).map((i) => i.id)).toEqual([invitation.id]);
    expect(await admin.invite.list({ status: "pending" })).toEqual([]);

    const refused = await rejection(h.call().invite.accept({ token: invitation.token, password: STRONG_PASSWORD }));
    expect(refused.code).toBe("BAD_REQUEST");
    expect(errorDetails(refused).fieldErrors).toEqual({ token: ["This invitation has expired."] });

    const extended = await admin.invite.extend({ id: invitation.id });
    expect(extended).toMatchObject({ id: invitation.id, status: "pending" });
    expect(new Date(extended.expiresAt).getTime()).toBe(h.clock.now().getTime() + 7 * DAY_MS);
    expect((await admin.invite.list({ status: "pending" })).map((i) => i.id)).toEqual([invitation.id]);

    const user = await h.call().invite.accept({ token: invitation.token, password: STRONG_PASSWORD });
    expect(user).toMatchObject({ email, roles: ["VIEWER"] });
    expect((await admin.invite.list({ status: "accepted" })).map((i) => i.id)).toEqual([invitation.id]);
    // An accepted invitation cannot be extended.
    expect((await rejection(admin.invite.extend({ id: invitation.id }))).code).toBe("BAD_REQUEST");
  });

  it("an extension by N days counts from now, and expires again after it", async () => {
    const { admin } = await signUp(h);
    const invitation = await admin.invite.create({ email: `${unique("later")}@example.com`, role: null });
    h.clock.advance(10 * DAY_MS);
    expect((await admin.invite.list())[0]?.status).toBe("expired");
    const extended = await admin.invite.extend({ id: invitation.id, days: 2 });
    expect(new Date(extended.expiresAt).getTime()).toBe(h.clock.now().getTime() + 2 * DAY_MS);
    h.clock.advance(2 * DAY_MS);
    expect((await admin.invite.list())[0]?.status).toBe("expired");
    const refused = await rejection(h.call().invite.accept({ token: invitation.token, password: STRONG_PASSWORD }));
    expect(errorDetails(refused).fieldErrors).toEqual({ token: ["This invitation has expired."] });
  });
});
