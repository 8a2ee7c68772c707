import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEnv } from "../env.js";
import { createServices } from "../services.js";
import { createHarness, type Harness, STRONG_PASSWORD, unique } from "../test-support/harness.js";
import { createContext } from "../trpc/context.js";
import { createCaller } from "../trpc/router.js";
import { type InvitationEmail, loadInvitationEmailHook, logInvitationEmail } from "./hook.js";
import { capturedLogger } from "./test-support/outbox.js";

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
