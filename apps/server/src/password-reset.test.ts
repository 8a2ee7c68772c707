import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { hashInvitationToken } from "@tenantry/auth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RESET_REQUESTED } from "./domain/password-resets.js";
import { loadEnv } from "./env.js";
import { createLogger } from "./logger.js";
import type { PasswordResetEmail } from "./mail/hook.js";
import { createServices } from "./services.js";
import { failure, fieldErrorsOf } from "./test-support/errors.js";
import { addMember, createHarness, type Harness, STRONG_PASSWORD, signUp, unique } from "./test-support/harness.js";
import { createContext } from "./trpc/context.js";
import { createCaller } from "./trpc/router.js";

const NEW_PASSWORD = "reset-Passphrase-of-mine-8";
const TOKEN_INVALID = "This password reset link is invalid or has expired. Request a new one.";

function tokenOf(email: PasswordResetEmail): string {
  return new URLSearchParams(new URL(email.resetUrl).hash.slice(1)).get("token") ?? "";
}

/** Password reset by email (API.md, "Passwords and sessions"). */
describe("password reset", () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness({ throttle: false });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function member(role: "VIEWER" | "ADMIN" = "VIEWER") {
    const a = await signUp(h);
    const email = `${unique("forgetful")}@example.com`;
    const m = await addMember(h, a.admin, email, role);
    return { ...a, email, member: m };
  }

  /** Requests a reset, runs the outbox, and returns the emails this request produced. */
  async function requestReset(email: string, tenant?: string) {
    const before = h.resetEmails.length;
    expect(await h.call().auth.requestPasswordReset({ email, tenant })).toEqual({ detail: RESET_REQUESTED });
    await h.deliverEmails();
    return h.resetEmails.slice(before);
  }

  async function canLogin(email: string, password: string) {
    try {
      await h.call().auth.login({ email, password });
      return true;
    } catch {
      return false;
    }
  }

  it("emails a link APP_URL/reset-password#token=… once; the token works once and ends every session", async () => {
    const { email, member: m, tenant } = await member();
    const other = await h.call().auth.login({ email, password: STRONG_PASSWORD });
    const sent = await requestReset(email);
    expect(sent).toHaveLength(1);
    const [mail] = sent as [PasswordResetEmail];
    expect(mail).toMatchObject({
      to: email,
      tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name },
      attempt: 1,
      expiresAt: new Date(h.clock.now().getTime() + 60 * 60 * 1000).toISOString(),
    });
    const token = tokenOf(mail);
    expect(mail.resetUrl).toBe(`http://127.0.0.1:3000/reset-password#token=${encodeURIComponent(token)}`);
    // stored as a hash; the sealed copy is gone once delivered
    const rows = await h.db.orm.em
      .getConnection()
      .execute("select token_hash, delivery_token_ciphertext, email_delivery from password_resets where id = ?", [
        mail.passwordResetId,
      ]);
    expect(rows).toEqual([
      { token_hash: hashInvitationToken(token), delivery_token_ciphertext: null, email_delivery: "sent" },
    ]);
    // delivered exactly once: another pass sends nothing
    expect(await h.deliverEmails()).toBe(0);

    await h.call().auth.confirmPasswordReset({ token, newPassword: NEW_PASSWORD });
    for (const token of [m.token, other.token]) {
      expect((await failure(h.call(token).auth.me())).code).toBe("UNAUTHORIZED");
    }
    expect(await canLogin(email, NEW_PASSWORD)).toBe(true);
    expect(await canLogin(email, STRONG_PASSWORD)).toBe(false);

    const again = await failure(h.call().auth.confirmPasswordReset({ token, newPassword: "yet-Another-phrase-9" }));
    expect(fieldErrorsOf(again)).toEqual({ token: [TOKEN_INVALID] });
    expect(await canLogin(email, NEW_PASSWORD)).toBe(true);
  });

  it("expires 60 minutes after the request on the clock", async () => {
    const { email } = await member();
    const [justInTime] = (await requestReset(email)) as [PasswordResetEmail];
    h.clock.advance(60 * 60 * 1000 - 1);
    await h.call().auth.confirmPasswordReset({ token: tokenOf(justInTime), newPassword: NEW_PASSWORD });

    const [late] = (await requestReset(email)) as [PasswordResetEmail];
    h.clock.advance(60 * 60 * 1000);
    const expired = await failure(
      h.call().auth.confirmPasswordReset({ token: tokenOf(late), newPassword: "too-Late-phrase-44" }),
    );
    expect(fieldErrorsOf(expired)).toEqual({ token: [TOKEN_INVALID] });
    expect(await canLogin(email, NEW_PASSWORD)).toBe(true);
  });

  it("a newer request supersedes the older token", async () => {
    const { email } = await member();
    const [first] = (await requestReset(email)) as [PasswordResetEmail];
    const [second] = (await requestReset(email)) as [PasswordResetEmail];
    const dead = await failure(
      h.call().auth.confirmPasswordReset({ token: tokenOf(first), newPassword: NEW_PASSWORD }),
    );
    expect(fieldErrorsOf(dead)).toEqual({ token: [TOKEN_INVALID] });
    await h.call().auth.confirmPasswordReset({ token: tokenOf(second), newPassword: NEW_PASSWORD });
    expect(await canLogin(email, NEW_PASSWORD)).toBe(true);
  });

  it("a newer request before delivery cancels the older email: only the newer one is sent", async () => {
    const { email } = await member();
    const before = h.resetEmails.length;
    await h.call().auth.requestPasswordReset({ email });
    await h.call().auth.requestPasswordReset({ email });
    expect(await h.deliverEmails()).toBe(1);
    const sent = h.resetEmails.slice(before);
    expect(sent).toHaveLength(1);
    await h
      .call()
      .auth.confirmPasswordReset({ token: tokenOf(sent[0] as PasswordResetEmail), newPassword: NEW_PASSWORD });
  });

  it("a refused new password leaves the token usable and changes nothing", async () => {
    const { email, member: m } = await member();
    const [mail] = (await requestReset(email)) as [PasswordResetEmail];
    const weak = await failure(h.call().auth.confirmPasswordReset({ token: tokenOf(mail), newPassword: "12345678" }));
    expect(Object.keys(fieldErrorsOf(weak))).toEqual(["newPassword"]);
    expect((await h.call(m.token).auth.me()).email).toBe(email);
    await h.call().auth.confirmPasswordReset({ token: tokenOf(mail), newPassword: NEW_PASSWORD });
    expect(await canLogin(email, NEW_PASSWORD)).toBe(true);
  });

  it("a password change makes a live reset token useless", async () => {
    const { email, member: m } = await member();
    const [mail] = (await requestReset(email)) as [PasswordResetEmail];
    await m.caller.auth.changePassword({ currentPassword: STRONG_PASSWORD, newPassword: NEW_PASSWORD });
    const dead = await failure(
      h.call().auth.confirmPasswordReset({ token: tokenOf(mail), newPassword: "other-Pass-phrase-3" }),
    );
    expect(fieldErrorsOf(dead)).toEqual({ token: [TOKEN_INVALID] });
  });

  it("inactive accounts get no token, and a token issued before deactivation stops working", async () => {
    const { email, member: m, admin } = await member();
    const [earlier] = (await requestReset(email)) as [PasswordResetEmail];
    await admin.user.deactivate({ id: m.user.id });
    expect(await requestReset(email)).toEqual([]);
    const dead = await failure(
      h.call().auth.confirmPasswordReset({ token: tokenOf(earlier), newPassword: NEW_PASSWORD }),
    );
    expect(fieldErrorsOf(dead)).toEqual({ token: [TOKEN_INVALID] });
    const rows = await h.db.orm.em
      .getConnection()
      .execute("select count(*)::int as n from password_resets where user_id = ?", [m.user.id]);
    expect(rows).toEqual([{ n: 1 }]);
  });

  it("an unknown address gets the same answer, no token and no email; unknown tokens are refused alike", async () => {
    const before = await h.db.orm.em.getConnection().execute("select count(*)::int as n from password_resets");
    expect(await requestReset(`${unique("nobody")}@example.com`)).toEqual([]);
    expect(await h.db.orm.em.getConnection().execute("select count(*)::int as n from password_resets")).toEqual(before);
    const unknown = await failure(
      h.call().auth.confirmPasswordReset({ token: "not-a-token-anyone-was-given", newPassword: NEW_PASSWORD }),
    );
    expect(fieldErrorsOf(unknown)).toEqual({ token: [TOKEN_INVALID] });
  });

  it("one email per active account with the address; `tenant` narrows it to that tenant's account", async () => {
    const a = await signUp(h);
    const b = await signUp(h);
    const email = `${unique("twice")}@example.com`;
    await addMember(h, a.admin, email, "VIEWER");
    const inB = await addMember(h, b.admin, email, "ANALYST");
    const both = await requestReset(email);
    expect(both.map((mail) => mail.tenant?.slug).sort()).toEqual([a.tenant.slug, b.tenant.slug].sort());
    const onlyB = await requestReset(email, b.tenant.slug);
    expect(onlyB.map((mail) => mail.tenant?.id)).toEqual([b.tenant.id]);
    // B's earlier token was superseded; A's still works
    const aToken = tokenOf(both.find((mail) => mail.tenant?.id === a.tenant.id) as PasswordResetEmail);
    await h.call().auth.confirmPasswordReset({ token: aToken, newPassword: NEW_PASSWORD });
    await h
      .call()
      .auth.confirmPasswordReset({ token: tokenOf(onlyB[0] as PasswordResetEmail), newPassword: NEW_PASSWORD });
    expect((await h.call().auth.login({ email, password: NEW_PASSWORD, tenant: b.tenant.slug })).user.id).toBe(
      inB.user.id,
    );
  });

  it("of two concurrent confirms of one token exactly one succeeds", async () => {
    const { email } = await member();
    const [mail] = (await requestReset(email)) as [PasswordResetEmail];
    const token = tokenOf(mail);
    const results = await Promise.allSettled([
      h.call().auth.confirmPasswordReset({ token, newPassword: NEW_PASSWORD }),
      h.call().auth.confirmPasswordReset({ token, newPassword: "the-Other-passphrase-5" }),
    ]);
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    const [rejected] = results.filter((result) => result.status === "rejected") as PromiseRejectedResult[];
    expect(fieldErrorsOf(rejected?.reason)).toEqual({ token: [TOKEN_INVALID] });
    const winner = results[0]?.status === "fulfilled" ? NEW_PASSWORD : "the-Other-passphrase-5";
    expect(await canLogin(email, winner)).toBe(true);
  });

  it("audits the request per account, an unknown address without a target, and the reset by the user", async () => {
    const { email, member: m, tenant } = await member();
    const unknown = `${unique("ghost")}@example.com`;
    const [mail] = (await requestReset(email)) as [PasswordResetEmail];
    h.clock.advance(1000);
    await requestReset(unknown);
    h.clock.advance(1000);
    await h.call().auth.confirmPasswordReset({ token: tokenOf(mail), newPassword: NEW_PASSWORD });
    const events = await h.db.orm.em.getConnection().execute(
      `select action, tenant_id, target_type, target_id, actor_type, actor_id, details from audit_events
       where action like 'auth.password_reset%' and (details->>'email' in (?, ?) or target_id = ?) order by occurred_at, id`,
      [email, unknown, m.user.id],
    );
    expect(events).toEqual([
      {
        action: "auth.password_reset_requested",
        tenant_id: tenant.id,
        target_type: "user",
        target_id: m.user.id,
        actor_type: "anonymous",
        actor_id: null,
        details: { email, tenant: null, resetId: mail.passwordResetId },
      },
      {
        action: "auth.password_reset_requested",
        tenant_id: null,
        target_type: null,
        target_id: null,
        actor_type: "anonymous",
        actor_id: null,
        details: { email: unknown, tenant: null, resetId: null },
      },
      {
        action: "auth.password_reset",
        tenant_id: tenant.id,
        target_type: "user",
        target_id: m.user.id,
        actor_type: "user",
        actor_id: m.user.id,
        details: { resetId: mail.passwordResetId, endedSessions: 1 },
      },
    ]);
  });
});

/** The email hook module, for resets: `EMAIL_HOOK` (or its older name), and the default log line. */
describe("password reset email hook", () => {
  let h: Harness;
  let dir: string;

  beforeAll(async () => {
    h = await createHarness({ throttle: false });
    dir = mkdtempSync(join(tmpdir(), "tenantry-reset-hook-"));
  });
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function captured() {
    const chunks: string[] = [];
    const logger = createLogger(
      "debug",
      new Writable({
        write(chunk, _encoding, done) {
          chunks.push(chunk.toString());
          done();
        },
      }) as unknown as Parameters<typeof createLogger>[1],
    );
    const text = () => chunks.join("");
    const lines = () =>
      text()
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    return { logger, text, lines };
  }

  /** Services configured from `vars`; a member in a new tenant; a reset requested for them and delivered. */
  async function resetThrough(vars: Record<string, string>) {
    const log = captured();
    const env = loadEnv({ NODE_ENV: "test", THROTTLE: "off", DATA_DIR: dir, SECRET_KEY: "k".repeat(40), ...vars });
    const running = await createServices(env, h.db, log.logger, { clock: h.clock });
    const call = (token: string | null) =>
      createCaller(createContext(running.services, { token, ip: "192.0.2.9", userAgent: "vitest" }));
    const adminEmail = `${unique("owner")}@example.com`;
    const tenant = await call(null).tenant.create({
      name: unique("Hooked"),
      adminEmail,
      adminPassword: STRONG_PASSWORD,
    });
    await call(null).auth.requestPasswordReset({ email: adminEmail });
    const handled = await running.delivery.runOnce();
    await running.stop();
    return { log, adminEmail, tenant, handled };
  }

  it("EMAIL_HOOK's sendPasswordResetEmail gets { to, tenant, resetUrl, expiresAt }, once; invitations still work", async () => {
    const outbox = join(dir, "resets.jsonl");
    const path = join(dir, "both.mjs");
    writeFileSync(
      path,
      `import { appendFileSync } from "node:fs";
export async function sendPasswordResetEmail(email) { appendFileSync(${JSON.stringify(outbox)}, JSON.stringify(email) + "\\n"); }
export async function sendInvitationEmail() {}
`,
    );
    const { adminEmail, tenant, handled, log } = await resetThrough({
      EMAIL_HOOK: path,
      APP_URL: "https://tenantry.example.com/",
    });
    expect(handled).toBe(1);
    const sent = readFileSync(outbox, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as PasswordResetEmail);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ to: adminEmail, tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name } });
    expect(sent[0]?.resetUrl).toMatch(/^https:\/\/tenantry\.example\.com\/reset-password#token=[A-Za-z0-9_-]{43}$/);
    expect(log.lines().filter((line) => line.event === "password_reset_email")).toEqual([]);
  });

  it("INVITATION_EMAIL_HOOK still names the module; a module with only sendInvitationEmail leaves resets to the default log line", async () => {
    const path = join(dir, "invitations-only.mjs");
    writeFileSync(path, "export function sendInvitationEmail() {}\n");
    const { adminEmail, tenant, log } = await resetThrough({ INVITATION_EMAIL_HOOK: path });
    const lines = log.lines().filter((line) => line.event === "password_reset_email");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      to: adminEmail,
      tenant: tenant.slug,
      resetUrl: "[redacted: holds the token]",
    });
    expect(log.text()).not.toMatch(/reset-password#token=/);
  });

  it("without a hook each reset email is one log line without the link or token", async () => {
    const { adminEmail, log } = await resetThrough({});
    const lines = log.lines().filter((line) => line.event === "password_reset_email");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ to: adminEmail, resetUrl: "[redacted: holds the token]" });
    const [row] = await h.db.orm.em
      .fork()
      .getConnection()
      .execute<{ email_delivery: string }[]>("select email_delivery from password_resets where email = ?", [
        adminEmail,
      ]);
    expect(row?.email_delivery).toBe("sent");
    expect(log.text()).not.toMatch(/#token=/);
  });

  it("a module exporting neither function is refused at start, naming both", async () => {
    const path = join(dir, "neither.mjs");
    writeFileSync(path, "export const x = 1;\n");
    const env = loadEnv({ NODE_ENV: "test", DATA_DIR: dir, SECRET_KEY: "k".repeat(40), EMAIL_HOOK: path });
    await expect(createServices(env, h.db, captured().logger, { clock: h.clock })).rejects.toThrow(
      `EMAIL_HOOK=${path} must export a function named sendInvitationEmail or sendPasswordResetEmail (or a default export).`,
    );
  });
});
