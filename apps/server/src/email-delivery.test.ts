import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { hashInvitationToken } from "@tenantry/auth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEnv } from "./env.js";
import { createLogger, type Logger } from "./logger.js";
import { DEFAULT_RETRY_DELAYS_MS } from "./mail/delivery.js";
import { type InvitationEmail, loadInvitationEmailHook, logInvitationEmail } from "./mail/hook.js";
import { createServices, type ServiceOverrides } from "./services.js";
import { createHarness, type Harness, STRONG_PASSWORD, signUp, unique } from "./test-support/harness.js";
import { createContext } from "./trpc/context.js";
import { createCaller } from "./trpc/router.js";

const DAY_MS = 86_400_000;

interface DeliveryRow {
  email_delivery: string;
  delivery_attempts: number;
  delivery_token_ciphertext: string | null;
  delivery_last_error: string | null;
  token_hash: string;
  state: string;
}

async function deliveryRow(h: Harness, id: string): Promise<DeliveryRow> {
  const [row] = await h.db.orm.em
    .fork()
    .getConnection()
    .execute<DeliveryRow[]>(
      `select email_delivery, delivery_attempts, delivery_token_ciphertext, delivery_last_error, token_hash, state
         from invitations where id = ?`,
      [id],
    );
  if (!row) throw new Error(`no invitation ${id}`);
  return row;
}

/** The token an accept link carries. */
function tokenOf(email: InvitationEmail | undefined): string | null {
  return email ? new URLSearchParams(new URL(email.acceptUrl).hash.slice(1)).get("token") : null;
}

/** A logger whose lines land in `lines` (parsed) and `text` (raw). */
function capturedLogger(): { logger: Logger; text: () => string; lines: () => Record<string, unknown>[] } {
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
  return {
    logger,
    text,
    lines: () =>
      text()
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** A promise and the function that settles it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

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

describe("choosing the hook by configuration", () => {
  const dir = mkdtempSync(join(tmpdir(), "tenantry-hook-"));
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ throttle: false });
  });
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function writeModule(name: string, source: string): string {
    const path = join(dir, name);
    writeFileSync(path, source);
    return path;
  }

  it("loads a module's `sendInvitationEmail` export", async () => {
    const path = writeModule(
      "named.mjs",
      "export const calls = [];\nexport function sendInvitationEmail(email) { calls.push(email); return 'named'; }\n",
    );
    const hook = await loadInvitationEmailHook(path);
    expect(typeof hook).toBe("function");
    expect(await hook({ to: "x@example.com" } as InvitationEmail)).toBe("named");
  });

  it("loads a module's default export", async () => {
    const path = writeModule(
      "default.mjs",
      "export default async function (email) { return 'default:' + email.to; }\n",
    );
    const hook = await loadInvitationEmailHook(path);
    expect(await hook({ to: "y@example.com" } as InvitationEmail)).toBe("default:y@example.com");
  });

  it("loads a path relative to the working directory", async () => {
    const path = writeModule("relative.mjs", "export function sendInvitationEmail() { return 'relative'; }\n");
    const relative = join(...Array(process.cwd().split("/").length).fill(".."), path);
    const hook = await loadInvitationEmailHook(relative);
    expect(await hook({} as InvitationEmail)).toBe("relative");
  });

  it("rejects a module without a function export, saying what it needs", async () => {
    const none = writeModule("none.mjs", "export const sendInvitationEmail = 'not a function';\nexport const x = 1;\n");
    await expect(loadInvitationEmailHook(none)).rejects.toThrow(
      `INVITATION_EMAIL_HOOK=${none} must export a function named sendInvitationEmail (or a default export).`,
    );
    const empty = writeModule("empty.mjs", "export {};\n");
    await expect(loadInvitationEmailHook(empty)).rejects.toThrow(/must export a function named sendInvitationEmail/);
    await expect(loadInvitationEmailHook(join(dir, "missing.mjs"))).rejects.toThrow();
  });

  it("INVITATION_EMAIL_HOOK alone swaps the hook the services deliver with", async () => {
    const outbox = join(dir, "outbox.jsonl");
    const path = writeModule(
      "smtp.mjs",
      `import { appendFileSync } from "node:fs";
export async function sendInvitationEmail(email) {
  appendFileSync(${JSON.stringify(outbox)}, JSON.stringify(email) + "\\n");
}
`,
    );
    const env = loadEnv({
      NODE_ENV: "test",
      THROTTLE: "off",
      DATA_DIR: dir,
      APP_URL: "https://tenantry.example.com/",
      SECRET_KEY: "a-secret-key-of-at-least-thirty-two-characters",
      INVITATION_EMAIL_HOOK: path,
    });
    const log = capturedLogger();
    const running = await createServices(env, h.db, log.logger, { clock: h.clock });
    const call = (token: string | null) =>
      createCaller(createContext(running.services, { token, ip: "192.0.2.1", userAgent: "vitest" }));
    const adminEmail = `${unique("owner")}@example.com`;
    const tenant = await call(null).tenant.create({
      name: unique("Configured"),
      adminEmail,
      adminPassword: STRONG_PASSWORD,
    });
    const { token } = await call(null).auth.login({ email: adminEmail, password: STRONG_PASSWORD });
    const invitation = await call(token).invite.create({ email: "configured@example.com", role: "VIEWER" });

    expect(await running.delivery.runOnce()).toBe(1);
    const sent = readFileSync(outbox, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as InvitationEmail);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      invitationId: invitation.id,
      to: "configured@example.com",
      role: "VIEWER",
      tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name },
    });
    expect(sent[0]?.acceptUrl).toBe(
      `https://tenantry.example.com/accept-invite#token=${encodeURIComponent(invitation.token)}`,
    );
    expect((await call(token).invite.list())[0]?.emailDelivery).toBe("sent");
    // The configured hook replaced the default: nothing was written to the log instead.
    expect(log.lines().filter((line) => line.event === "invitation_email")).toEqual([]);
    await running.stop();
  });

  it("without INVITATION_EMAIL_HOOK the services log each invitation email once, without the token", async () => {
    const env = loadEnv({
      NODE_ENV: "test",
      THROTTLE: "off",
      DATA_DIR: dir,
      SECRET_KEY: "another-secret-key-of-at-least-thirty-two-characters",
    });
    const log = capturedLogger();
    const running = await createServices(env, h.db, log.logger, { clock: h.clock });
    const call = (token: string | null) =>
      createCaller(createContext(running.services, { token, ip: "192.0.2.2", userAgent: "vitest" }));
    const adminEmail = `${unique("owner")}@example.com`;
    const tenant = await call(null).tenant.create({
      name: unique("Default Hook"),
      adminEmail,
      adminPassword: STRONG_PASSWORD,
    });
    const { token } = await call(null).auth.login({ email: adminEmail, password: STRONG_PASSWORD });
    const invitation = await call(token).invite.create({ email: "logged@example.com", role: "ANALYST" });

    expect(await running.delivery.runOnce()).toBe(1);
    const lines = log.lines().filter((line) => line.event === "invitation_email");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      invitationId: invitation.id,
      to: "logged@example.com",
      tenant: tenant.slug,
      role: "ANALYST",
    });
    expect(log.text()).not.toContain(invitation.token);
    expect((await call(token).invite.list())[0]?.emailDelivery).toBe("sent");
    await running.stop();
  });
});

describe("the default hook", () => {
  it("writes exactly one structured log line, without the token", async () => {
    const log = capturedLogger();
    const token = "Zm9vYmFyLXNlY3JldC10b2tlbi12YWx1ZS0xMjM0NTY3ODk";
    const email: InvitationEmail = {
      invitationId: "0190a6f4-0000-7000-8000-000000000001",
      to: "new.hire@example.com",
      tenant: { id: "0190a6f4-0000-7000-8000-000000000002", name: "Acme", slug: "acme" },
      role: "VIEWER",
      expiresAt: "2026-12-06T10:00:00.000Z",
      acceptUrl: `https://app.example.com/accept-invite#token=${token}`,
      attempt: 1,
    };
    await logInvitationEmail(log.logger)(email);

    const lines = log.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      event: "invitation_email",
      invitationId: email.invitationId,
      to: email.to,
      tenant: "acme",
      role: "VIEWER",
      expiresAt: email.expiresAt,
    });
    expect(typeof lines[0]?.msg).toBe("string");
    expect(log.text()).not.toContain(token);
    expect(log.text()).not.toContain(email.acceptUrl);
  });
});

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
