import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Database, migrationsList, openDatabase } from "@tenantry/db";
import { createTestDatabase, type TestDatabase } from "@tenantry/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMANDS } from "./cli/commands.js";
import { DAY_MS, ManualClock } from "./domain/clock.js";
import { createTenant } from "./domain/tenants.js";
import { loadEnv } from "./env.js";
import { createLogger } from "./logger.js";
import type { InvitationEmail, PasswordResetEmail } from "./mail/hook.js";
import { createServices, type RunningServices } from "./services.js";
import { failure } from "./test-support/errors.js";
import { entryArgs } from "./test-support/process.js";
import { startReceiver } from "./test-support/webhook-receiver.js";
import { createContext } from "./trpc/context.js";
import { errorDetails } from "./trpc/errors.js";
import { createCaller } from "./trpc/router.js";

/**
 * The `tenantry` command line (issue #6), every command run as a real child
 * process against a real database, seeded through the same services the API
 * uses. Exit codes: 0 done, 1 refused by a rule, 2 bad usage.
 */

const serverDir = new URL("..", import.meta.url).pathname;
const SECRET_KEY = "cli-ops-test-server-key-0123456789abcdef";
const PASSWORD = "correct-Horse-battery-9";
const TOKEN_INVALID = "Invalid or revoked invitation token.";
const LAST_ADMIN = "This is the tenant's last ADMIN assignment; grant ADMIN to someone else before revoking it.";
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const tag = `${process.pid}${randomBytes(2).toString("hex")}`;

interface Run {
  args: string[];
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The first line (the header) and the separator of a human table. */
function headerOf(stdout: string): string[] {
  const [header = "", rule = ""] = stdout.split("\n");
  expect(rule).toMatch(/^-+( +-+)*$/);
  return header.split(/\s{2,}/);
}

describe("the tenantry CLI", { timeout: 120_000 }, () => {
  let testDb: TestDatabase;
  let url: string;
  let workDir: string;
  let outbox: string;
  let resetOutbox: string;
  let env: Record<string, string>;
  let db: Database;
  let running: RunningServices;
  let strayServices: RunningServices;
  const runs: Run[] = [];
  let firstMigrate: Run;

  /** Runs the real CLI as a child process against the test database. */
  function tenantry(args: string[], stdin?: string): Promise<Run> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [...entryArgs("cli"), ...args], {
        cwd: serverDir,
        env: { PATH: process.env.PATH ?? "", ...env },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk) => {
        stdout += chunk;
      });
      child.stderr.on("data", (chunk) => {
        stderr += chunk;
      });
      child.stdin.end(stdin ?? "");
      child.on("exit", (code) => {
        const run = { args, code, stdout, stderr };
        runs.push(run);
        resolve(run);
      });
    });
  }

  /** Asserts exit 0 and nothing on stderr; returns stdout. */
  async function ok(args: string[], stdin?: string): Promise<string> {
    const run = await tenantry(args, stdin);
    expect({ args, code: run.code, stderr: run.stderr }).toEqual({ args, code: 0, stderr: "" });
    return run.stdout;
  }

  /** Asserts exit 0 and parses stdout as JSON. */
  async function okJson<T = unknown>(args: string[]): Promise<T> {
    return JSON.parse(await ok([...args, "--json"])) as T;
  }

  /** Asserts a refusal by a rule: exit 1, the reason on stderr, nothing on stdout. */
  async function refused(args: string[], reason: string | RegExp): Promise<void> {
    const run = await tenantry(args);
    expect(run.code, args.join(" ")).toBe(1);
    expect(run.stdout).toBe("");
    if (typeof reason === "string") expect(run.stderr).toContain(reason);
    else expect(run.stderr).toMatch(reason);
  }

  async function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
    return db.orm.em.fork().getConnection().execute<T[]>(query, params);
  }

  function caller(token: string | null = null) {
    return createCaller(() => createContext(running.services, { token, ip: "192.0.2.10", userAgent: "cli-ops-seed" }));
  }

  function sentEmails(): InvitationEmail[] {
    if (!existsSync(outbox)) return [];
    return readFileSync(outbox, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as InvitationEmail);
  }

  const tokenOf = (email: InvitationEmail | undefined) =>
    email ? new URLSearchParams(new URL(email.acceptUrl).hash.slice(1)).get("token") : null;

  async function signUp(name: string) {
    const adminEmail = `admin@${name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}.example.com`;
    const tenant = await caller().tenant.create({ name, adminEmail, adminPassword: PASSWORD });
    const { token } = await caller().auth.login({ email: adminEmail, password: PASSWORD });
    return { tenant, adminEmail, adminId: tenant.adminUserId, admin: caller(token) };
  }

  const daysAgo = (days: number) => new Date(Date.now() - days * DAY_MS);

  let acme: Awaited<ReturnType<typeof signUp>>;
  let beta: Awaited<ReturnType<typeof signUp>>;
  let oldCo: { id: string; slug: string };
  let analystId: string;
  const inv: Record<string, { id: string; email: string; token: string }> = {};

  beforeAll(async () => {
    testDb = await createTestDatabase("postgres");
    if (testDb.target.kind !== "postgres") throw new Error("the CLI tests need PostgreSQL");
    url = testDb.target.url;
    workDir = mkdtempSync(join(tmpdir(), "tenantry-cli-ops-"));
    outbox = join(workDir, "outbox.jsonl");
    resetOutbox = join(workDir, "resets.jsonl");
    const hook = join(workDir, "hook.mjs");
    writeFileSync(
      hook,
      `import { appendFileSync } from "node:fs";
export function sendInvitationEmail(email) {
  appendFileSync(${JSON.stringify(outbox)}, JSON.stringify(email) + "\\n");
}
export function sendPasswordResetEmail(email) {
  appendFileSync(${JSON.stringify(resetOutbox)}, JSON.stringify(email) + "\\n");
}
`,
    );
    env = { DATABASE_URL: url, SECRET_KEY, DATA_DIR: join(workDir, "data"), INVITATION_EMAIL_HOOK: hook };

    // The very first command on the fresh database.
    firstMigrate = await tenantry(["migrate"]);

    db = await openDatabase({ kind: "postgres", url }, { poolSize: 4 });
    const serviceEnv = loadEnv({
      NODE_ENV: "test",
      THROTTLE: "off",
      DATABASE_URL: url,
      SECRET_KEY,
      DATA_DIR: env.DATA_DIR,
    });
    // The server's services: the same key as the CLI's (SECRET_KEY), its own recording hook.
    const seeded: InvitationEmail[] = [];
    running = await createServices(serviceEnv, db, createLogger("silent"), {
      hook: (email) => void seeded.push(email),
    });

    acme = await signUp(`CLI Acme ${tag}`);
    beta = await signUp(`CLI Beta ${tag}`);
    // A tenant signed up long ago (its event happened in 2020).
    const old = await createTenant(
      {
        em: db.orm.em.fork(),
        clock: new ManualClock("2020-06-01T12:00:00.000Z"),
        audit: { actor: { type: "anonymous" }, client: { ip: null, userAgent: "seed" } },
      },
      { name: `CLI Old ${tag}`, adminEmail: `admin@old-${tag}.example.com`, adminPassword: PASSWORD },
    );
    oldCo = { id: old.id, slug: old.slug };

    const invite = async (tenant: typeof acme, name: string, role: "ANALYST" | "VIEWER" | null = null) => {
      const created = await tenant.admin.invite.create({ email: `${name}@cli.example.com`, role });
      inv[name] = { id: created.id, email: created.email, token: created.token };
      return created;
    };
    const analyst = await invite(acme, "analyst", "ANALYST");
    analystId = (await caller().invite.accept({ token: analyst.token, password: PASSWORD })).id;
    await invite(acme, "extend-me");
    await invite(acme, "expired-2d");
    await invite(acme, "revoke-me");
    await invite(acme, "resend-me", "VIEWER");
    await invite(acme, "old-40d");
    await invite(acme, "recent-10d");
    await invite(acme, "old-revoked");
    await acme.admin.invite.revoke({ id: inv["old-revoked"]?.id as string });
    await invite(beta, "beta-old-40d");
    await invite(beta, "beta-pending");
    await sql("update invitations set expires_at = ? where id = ?", [daysAgo(2), inv["expired-2d"]?.id]);
    await sql("update invitations set expires_at = ? where id in (?, ?)", [
      daysAgo(40),
      inv["old-40d"]?.id,
      inv["beta-old-40d"]?.id,
    ]);
    await sql("update invitations set expires_at = ? where id = ?", [daysAgo(10), inv["recent-10d"]?.id]);
    await sql("update invitations set revoked_at = ? where id = ?", [daysAgo(45), inv["old-revoked"]?.id]);
    // Every seeded email goes out now, through the server's hook.
    await running.delivery.runOnce();
    expect(seeded.length).toBe(8);

    // One more invitation whose email the server (with a key of its own) has not sent yet.
    strayServices = await createServices(serviceEnv, db, createLogger("silent"), {
      key: randomBytes(32),
      hook: () => {},
    });
    const stray = await createCaller(() =>
      createContext(strayServices.services, { token: null, ip: null, userAgent: "seed" }),
    ).auth.login({ email: beta.adminEmail, password: PASSWORD });
    const strayInvite = await createCaller(() =>
      createContext(strayServices.services, { token: stray.token, ip: null, userAgent: "seed" }),
    ).invite.create({ email: "stray@cli.example.com", role: null });
    inv.stray = { id: strayInvite.id, email: strayInvite.email, token: strayInvite.token };
  });

  afterAll(async () => {
    await strayServices?.stop();
    await running?.stop();
    await db?.close();
    await testDb?.drop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it("migrate: applies every migration to a fresh database, then is up to date (also as JSON)", async () => {
    expect(firstMigrate.stderr).toBe("");
    expect(firstMigrate.code).toBe(0);
    expect(firstMigrate.stdout).toBe(`Applied ${migrationsList.length} migration(s).\n`);
    const json = await okJson<{ database: string; applied: string[] }>(["migrate"]);
    expect(json.applied).toEqual([]);
    expect(json.database).toContain(new URL(url).pathname);
    expect(json.database).not.toContain("postgres@");
  });

  it("tenants list: a table of every tenant, and JSON", async () => {
    const [table, json] = await Promise.all([ok(["tenants", "list"]), okJson<{ slug: string }[]>(["tenants", "list"])]);
    expect(headerOf(table)).toEqual(["ID", "SLUG", "NAME", "CREATED"]);
    for (const tenant of [acme.tenant, beta.tenant]) expect(table).toContain(tenant.slug);
    expect(table).toMatch(/\(3 rows\)\n$/);
    expect(json.map((tenant) => tenant.slug).sort()).toEqual([acme.tenant.slug, beta.tenant.slug, oldCo.slug].sort());
    const { adminUserId: _admin, ...acmeTenant } = acme.tenant;
    expect(json).toContainEqual(acmeTenant);
  });

  it("users list --tenant: a tenant's users with roles; an unknown tenant is refused", async () => {
    const [table, json, unknown] = await Promise.all([
      ok(["users", "list", "--tenant", acme.tenant.slug]),
      okJson<{ email: string; roles: string[]; tenantId: string }[]>(["users", "list", "--tenant", acme.tenant.id]),
      tenantry(["users", "list", "--tenant", "no-such-tenant"]),
    ]);
    expect(headerOf(table)).toEqual(["ID", "EMAIL", "NAME", "ROLES", "JOINED"]);
    expect(table).toMatch(new RegExp(`${acme.adminEmail.replace(/\./g, "\\.")}\\s+ADMIN`));
    expect(table).toMatch(/analyst@cli\.example\.com\s+ANALYST/);
    expect(table).not.toContain(beta.adminEmail);
    expect(json.map((user) => [user.email, user.roles])).toEqual([
      [acme.adminEmail, ["ADMIN"]],
      ["analyst@cli.example.com", ["ANALYST"]],
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No tenant with the id or slug "no-such-tenant".');
  });

  it("invites list [--tenant] [--status]: a table and JSON, never a token", async () => {
    const [table, betaPending, acmeExpired] = await Promise.all([
      ok(["invites", "list"]),
      okJson<{ email: string; status: string }[]>([
        "invites",
        "list",
        "--tenant",
        beta.tenant.slug,
        "--status",
        "pending",
      ]),
      okJson<{ email: string; status: string; tenantId: string }[]>([
        "invites",
        "list",
        "--tenant",
        acme.tenant.slug,
        "--status",
        "expired",
      ]),
    ]);
    expect(headerOf(table)).toEqual(["ID", "TENANT", "EMAIL", "ROLE", "STATUS", "EXPIRES", "EMAIL DELIVERY"]);
    expect(table).toMatch(/analyst@cli\.example\.com\s+ANALYST\s+accepted/);
    expect(table).toMatch(/beta-pending@cli\.example\.com\s+-\s+pending/);
    for (const { token } of Object.values(inv)) expect(table).not.toContain(token);
    expect(betaPending.map((row) => row.email).sort()).toEqual([
      "beta-pending@cli.example.com",
      "stray@cli.example.com",
    ]);
    expect(acmeExpired.map((row) => row.email).sort()).toEqual(
      ["expired-2d@cli.example.com", "old-40d@cli.example.com", "recent-10d@cli.example.com"].sort(),
    );
    expect(acmeExpired.every((row) => row.status === "expired" && row.tenantId === acme.tenant.id)).toBe(true);
    expect(JSON.stringify(acmeExpired)).not.toContain("token");
  });

  it("invites extend <id> [--days N]: pending until now + N days (default 7); an accepted one is refused", async () => {
    const before = Date.now();
    const said = await ok(["invites", "extend", inv["extend-me"]?.id as string, "--days", "3"]);
    const json = await okJson<{ id: string; status: string; expiresAt: string }>([
      "invites",
      "extend",
      inv["expired-2d"]?.id as string,
    ]);
    const after = Date.now();
    const match = /^Invitation (\S+) for extend-me@cli\.example\.com now expires (\S+)\.\n$/.exec(said);
    expect(match?.[1]).toBe(inv["extend-me"]?.id);
    const threeDays = Date.parse(match?.[2] ?? "");
    expect(threeDays).toBeGreaterThanOrEqual(before + 3 * DAY_MS);
    expect(threeDays).toBeLessThanOrEqual(after + 3 * DAY_MS);
    expect(json).toMatchObject({ id: inv["expired-2d"]?.id, status: "pending", expiresAt: expect.stringMatching(ISO) });
    expect(Date.parse(json.expiresAt)).toBeGreaterThanOrEqual(before + 7 * DAY_MS);
    expect(Date.parse(json.expiresAt)).toBeLessThanOrEqual(after + 7 * DAY_MS);
    const rows = await sql<{ expires_at: Date }>("select expires_at from invitations where id = ?", [
      inv["extend-me"]?.id,
    ]);
    expect(new Date(rows[0]?.expires_at as Date).getTime()).toBe(threeDays);

    await refused(
      ["invites", "extend", inv.analyst?.id as string],
      "Only a pending or expired invitation can be extended.",
    );
  });

  it("invites revoke <id>: the token stops working; revoking again is fine; an accepted one is refused", async () => {
    const id = inv["revoke-me"]?.id as string;
    expect(await ok(["invites", "revoke", id])).toBe(`Invitation ${id} revoked.\n`);
    const accept = await failure(
      caller().invite.accept({ token: inv["revoke-me"]?.token as string, password: PASSWORD }),
    );
    expect(errorDetails(accept).fieldErrors).toEqual({ token: [TOKEN_INVALID] });
    expect(await okJson(["invites", "revoke", id])).toEqual({ id, status: "revoked" });
    await refused(["invites", "revoke", inv.analyst?.id as string], "An accepted invitation cannot be revoked.");
  });

  it("invites resend <id>: a new token, delivered through the configured hook now; the old token stops working", async () => {
    const target = inv["resend-me"] as { id: string; email: string; token: string };
    const before = Date.now();
    const json = await okJson<{ id: string; token: string; status: string; expiresAt: string; emailDelivery: string }>([
      "invites",
      "resend",
      target.id,
    ]);
    expect(json).toMatchObject({ id: target.id, status: "pending", emailDelivery: "sent" });
    expect(json.token).not.toBe(target.token);
    expect(Date.parse(json.expiresAt)).toBeGreaterThanOrEqual(before + 7 * DAY_MS);

    const mails = sentEmails().filter((mail) => mail.invitationId === target.id);
    expect(mails).toHaveLength(1);
    expect(tokenOf(mails[0])).toBe(json.token);
    expect(mails[0]).toMatchObject({ to: target.email, role: "VIEWER", expiresAt: json.expiresAt, attempt: 1 });
    expect(mails[0]?.tenant).toEqual({ id: acme.tenant.id, name: acme.tenant.name, slug: acme.tenant.slug });

    const old = await failure(caller().invite.accept({ token: target.token, password: PASSWORD }));
    expect(errorDetails(old).fieldErrors).toEqual({ token: [TOKEN_INVALID] });
    const user = await caller().invite.accept({ token: json.token, password: PASSWORD });
    expect(user).toMatchObject({ email: target.email, tenantId: acme.tenant.id, roles: ["VIEWER"] });

    // For people, the token is not shown (it goes to the invitee only).
    const pending = inv["beta-pending"] as { id: string; email: string };
    const said = await ok(["invites", "resend", pending.id]);
    expect(said).toMatch(
      new RegExp(
        `^Invitation ${pending.id} re-sent to beta-pending@cli\\.example\\.com \\(email sent\\); it expires \\S+\\.\\n$`,
      ),
    );
    const resentToken = tokenOf(
      sentEmails()
        .filter((mail) => mail.invitationId === pending.id)
        .at(-1),
    );
    expect(resentToken).toBeTruthy();
    expect(said).not.toContain(resentToken as string);

    await refused(
      ["invites", "resend", inv["revoke-me"]?.id as string],
      "Only a pending or expired invitation can be re-sent.",
    );
  });

  it("invites resend leaves other invitations' pending emails to the server (it neither sends nor fails them)", async () => {
    const rows = await sql<{ email_delivery: string; delivery_attempts: number; delivery_last_error: string | null }>(
      "select email_delivery, delivery_attempts, delivery_last_error from invitations where id = ?",
      [inv.stray?.id],
    );
    expect(sentEmails().filter((mail) => mail.invitationId === inv.stray?.id)).toEqual([]);
    expect(rows[0]).toEqual({ email_delivery: "pending", delivery_attempts: 0, delivery_last_error: null });
    expect(await sql("select 1 from audit_events where action = 'email.delivery_failed'")).toEqual([]);
  });

  it("invites purge-expired [--older-than 30d] [--tenant]: deletes the old ones, default retention (dry run: see the session)", async () => {
    const present = async () =>
      (await sql<{ email: string }>("select email from invitations order by email")).map((row) => row.email);
    const all = await present();

    const json = await okJson<{ purged: number; dryRun: boolean; cutoff: string; olderThanDays: number }>([
      "invites",
      "purge-expired",
      "--older-than",
      "30",
      "--tenant",
      acme.tenant.slug,
    ]);
    expect(json).toMatchObject({ purged: 2, dryRun: false, olderThanDays: 30, cutoff: expect.stringMatching(ISO) });
    expect(Math.abs(Date.parse(json.cutoff) - daysAgo(30).getTime())).toBeLessThan(5 * 60_000);
    expect(await present()).toEqual(
      all.filter((email) => email !== "old-40d@cli.example.com" && email !== "old-revoked@cli.example.com"),
    );

    // Without --older-than: INVITATION_RETENTION_DAYS (30 by default); without --tenant: every tenant.
    const said = await ok(["invites", "purge-expired"]);
    expect(said).toMatch(/^Purged 1 invitation\(s\) expired or revoked before \S+Z\.\n$/);
    const left = await present();
    expect(left).not.toContain("beta-old-40d@cli.example.com");
    expect(left).toContain("recent-10d@cli.example.com");

    const purged = await sql<{ target_id: string; actor_type: string }>(
      "select target_id, actor_type from audit_events where action = 'invitation.purged'",
    );
    expect(purged.map((event) => event.target_id).sort()).toEqual(
      [inv["old-40d"]?.id, inv["old-revoked"]?.id, inv["beta-old-40d"]?.id].sort(),
    );
    expect(purged.every((event) => event.actor_type === "cli")).toBe(true);
  });

  it("roles list|grant|revoke: a table and JSON; a duplicate grant and the last ADMIN are refused", async () => {
    const [table, admins] = await Promise.all([
      ok(["roles", "list", "--tenant", acme.tenant.slug]),
      okJson<{ id: string; userId: string; role: string }[]>([
        "roles",
        "list",
        "--tenant",
        acme.tenant.slug,
        "--role",
        "ADMIN",
      ]),
    ]);
    expect(headerOf(table)).toEqual(["ID", "TENANT", "USER", "ROLE", "GRANTED BY", "CREATED"]);
    expect(table).toMatch(new RegExp(`${acme.adminId}\\s+ADMIN`));
    expect(table).toMatch(new RegExp(`${analystId}\\s+ANALYST`));
    expect(admins.map((row) => [row.userId, row.role])).toEqual([[acme.adminId, "ADMIN"]]);

    const granted = await okJson<{ id: string; userId: string; role: string; tenantId: string; grantedById: null }>([
      "roles",
      "grant",
      "--user",
      analystId,
      "--role",
      "VIEWER",
    ]);
    expect(granted).toMatchObject({ userId: analystId, role: "VIEWER", tenantId: acme.tenant.id, grantedById: null });
    await Promise.all([
      refused(
        ["roles", "grant", "--user", analystId, "--role", "VIEWER"],
        "The fields user, role must make a unique set.",
      ),
      refused(["roles", "revoke", admins[0]?.id as string], LAST_ADMIN),
    ]);
    expect(await ok(["roles", "revoke", granted.id])).toBe(`Role assignment ${granted.id} revoked.\n`);
    expect((await acme.admin.role.list({ userId: analystId })).map((row) => row.role)).toEqual(["ANALYST"]);
    expect((await acme.admin.role.list({ userId: acme.adminId })).map((row) => row.role)).toEqual(["ADMIN"]);
  });

  it("audit list [--tenant] [--since] [--until] [--json]: the CLI's changes, with actor `cli`", async () => {
    type Page = {
      count: number;
      results: {
        action: string;
        actorType: string;
        targetId: string;
        ip: null;
        userAgent: string;
        tenantId: string | null;
      }[];
    };
    const [since, table, until, future] = await Promise.all([
      okJson<Page>(["audit", "list", "--since", "2021-01-01", "--limit", "1000"]),
      ok(["audit", "list", "--tenant", acme.tenant.slug, "--limit", "4"]),
      okJson<Page>(["audit", "list", "--until", "2021-01-01T00:00:00Z"]),
      ok(["audit", "list", "--since", "2999-01-01"]),
    ]);
    const fromCli = since.results.filter((event) => event.actorType === "cli" && event.tenantId === acme.tenant.id);
    const actions = fromCli.map((event) => `${event.action} ${event.targetId}`);
    expect(actions).toEqual(
      expect.arrayContaining(
        [
          `invitation.extended ${inv["extend-me"]?.id}`,
          `invitation.extended ${inv["expired-2d"]?.id}`,
          `invitation.revoked ${inv["revoke-me"]?.id}`,
          `invitation.resent ${inv["resend-me"]?.id}`,
          `invitation.purged ${inv["old-40d"]?.id}`,
          "role.granted",
          "role.revoked",
        ].map((prefix) => expect.stringContaining(prefix)),
      ),
    );
    for (const event of fromCli) {
      expect(event.ip).toBeNull();
      expect(event.userAgent).toMatch(/^tenantry-cli \(/);
    }
    expect(since.count).toBe(since.results.length);

    expect(headerOf(table)).toEqual(["WHEN", "ACTION", "ACTOR", "TENANT", "TARGET", "DETAILS"]);
    expect(table).toMatch(/\(4 rows\)\n$/);
    expect(table).toMatch(/role\.revoked\s+cli\s+/);

    expect(since.results.map((event) => event.tenantId)).not.toContain(oldCo.id);
    expect(since.results.length).toBeGreaterThan(10);
    expect(until.results.map((event) => [event.action, event.tenantId])).toEqual([["tenant.created", oldCo.id]]);
    expect(future).toBe("(none)\n");
  });

  it("webhooks add|list|test|deliveries|remove: through the ops procedures, the secret printed once, changes as `cli`", async () => {
    const receiver = await startReceiver();
    try {
      const added = await ok(["webhooks", "add", "--url", receiver.url, "--events", "invitation.created,role.granted"]);
      const [, id] = /^Webhook endpoint ([0-9a-f-]{36}) added for /.exec(added) ?? [];
      const secret = /^(whsec_\S+)$/m.exec(added)?.[1] ?? "";
      expect(id).toBeDefined();
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      const list = await ok(["webhooks", "list"]);
      expect(headerOf(list)).toEqual(["ID", "URL", "EVENTS", "ENABLED", "CREATED", "DISABLED BECAUSE"]);
      expect(list).toContain(id);
      expect(list).toContain("invitation.created,role.granted");
      expect(list).not.toContain(secret);
      expect(JSON.stringify(await okJson(["webhooks", "list"]))).not.toContain(secret.slice(6));

      const tested = await ok(["webhooks", "test", id as string]);
      expect(tested).toMatch(new RegExp(`^Test event delivered to endpoint ${id}: HTTP 200 in \\d+ ms`));
      expect(JSON.parse(receiver.received[0]?.body ?? "{}")).toMatchObject({ type: "webhook.tested", tenant: null });

      const deliveries = await okJson<{ eventType: string; status: string; attemptLog: unknown[] }[]>([
        "webhooks",
        "deliveries",
        id as string,
      ]);
      expect(deliveries).toEqual([
        expect.objectContaining({ eventType: "webhook.tested", status: "delivered", attemptLog: [expect.any(Object)] }),
      ]);
      expect(headerOf(await ok(["webhooks", "deliveries", id as string, "--status", "delivered"]))).toEqual([
        "ID",
        "EVENT",
        "TENANT",
        "STATUS",
        "ATTEMPTS",
        "LAST ATTEMPT",
        "NEXT",
        "ERROR",
      ]);

      expect(await ok(["webhooks", "remove", id as string])).toBe(`Webhook endpoint ${id} removed.\n`);
      await refused(["webhooks", "remove", id as string], "Not found.");
      const trail = await sql<{ action: string; actor_type: string }>(
        "select action, actor_type from audit_events where target_id = ? order by action",
        [id],
      );
      expect(trail).toEqual([
        { action: "webhook.created", actor_type: "cli" },
        { action: "webhook.removed", actor_type: "cli" },
        { action: "webhook.tested", actor_type: "cli" },
      ]);
      // Bad input is usage (exit 2), and nothing is added.
      for (const args of [
        ["webhooks", "add", "--url", "ftp://example.com/hook"],
        ["webhooks", "add", "--url", receiver.url, "--events", "tenant.exploded"],
        ["webhooks", "test", "not-a-uuid"],
        ["webhooks", "deliveries", id as string, "--limit", "0"],
      ]) {
        const run = await tenantry(args);
        expect({ args, code: run.code }).toEqual({ args, code: 2 });
        expect(run.stderr).toContain(`Usage: tenantry webhooks ${args[1]}`);
      }
      expect(await okJson(["webhooks", "list"])).toEqual([]);
    } finally {
      await receiver.close();
    }
  });

  it("users deactivate|activate|remove and sessions revoke --user: sessions end at once; the last ADMIN stays", async () => {
    const email = `cli-member-${Date.now()}@example.com`;
    const invitation = await acme.admin.invite.create({ email, role: "VIEWER" });
    const member = await caller().invite.accept({ token: invitation.token, password: PASSWORD });
    const login = async () => (await caller().auth.login({ email, password: PASSWORD, tenant: acme.tenant.id })).token;
    const first = await login();
    const off = await okJson<{ id: string; isActive: boolean }>(["users", "deactivate", member.id]);
    expect(off).toMatchObject({ id: member.id, isActive: false });
    expect(
      (await caller(first)
        .user.me()
        .catch((error: Error) => error)) instanceof Error,
    ).toBe(true);
    expect(await ok(["users", "activate", member.id])).toBe(`User ${email} (${member.id}) activated.\n`);
    const [second, third] = [await login(), await login()];
    expect(await ok(["sessions", "revoke", "--user", member.id])).toBe(`Ended 2 session(s) of ${member.id}.\n`);
    for (const token of [second, third]) {
      expect(
        (await caller(token)
          .user.me()
          .catch((error: Error) => error)) instanceof Error,
      ).toBe(true);
    }
    await refused(["users", "deactivate", acme.adminId], "last ADMIN");
    expect(await ok(["users", "remove", member.id])).toBe(`User ${member.id} removed.\n`);
    expect(await sql("select id from users where id = ?", [member.id])).toEqual([]);
    const actions = await sql<{ action: string; actor_type: string }>(
      "select action, actor_type from audit_events where target_id = ? and actor_type = 'cli' order by occurred_at, id",
      [member.id],
    );
    expect(actions.map((row) => row.action)).toEqual([
      "user.deactivated",
      "user.activated",
      "auth.sessions_ended",
      "user.deleted",
    ]);
  });

  it("users reset-password <id>: the reset email goes out now through the hook; the link sets the password once", async () => {
    const email = `cli-reset-${Date.now()}@example.com`;
    const invitation = await acme.admin.invite.create({ email, role: "VIEWER" });
    const member = await caller().invite.accept({ token: invitation.token, password: PASSWORD });
    const session = (await caller().auth.login({ email, password: PASSWORD, tenant: acme.tenant.id })).token;
    const sent = await okJson<{ id: string; userId: string; email: string; tenantId: string; expiresAt: string }>([
      "users",
      "reset-password",
      member.id,
    ]);
    expect(sent).toMatchObject({
      userId: member.id,
      email,
      tenantId: acme.tenant.id,
      expiresAt: expect.stringMatching(ISO),
    });
    const mails = readFileSync(resetOutbox, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as PasswordResetEmail);
    expect(mails.filter((mail) => mail.to === email)).toHaveLength(1);
    const mail = mails.find((m) => m.to === email) as PasswordResetEmail;
    expect(mail).toMatchObject({ passwordResetId: sent.id, tenant: { id: acme.tenant.id }, expiresAt: sent.expiresAt });
    const token = new URLSearchParams(new URL(mail.resetUrl).hash.slice(1)).get("token") ?? "";
    await caller().auth.confirmPasswordReset({ token, newPassword: "cli-Reset-passphrase-5" });
    expect(
      (await caller(session)
        .user.me()
        .catch((error: Error) => error)) instanceof Error,
    ).toBe(true);
    await caller().auth.login({ email, password: "cli-Reset-passphrase-5", tenant: acme.tenant.id });
    expect(
      await sql(
        "select action, actor_type from audit_events where target_id = ? and action = 'auth.password_reset_requested'",
        [member.id],
      ),
    ).toEqual([{ action: "auth.password_reset_requested", actor_type: "cli" }]);
    await refused(["users", "reset-password", "00000000-0000-7000-8000-000000000000"], "Not found.");
    await ok(["users", "deactivate", member.id]);
    await refused(["users", "reset-password", member.id], "deactivated");
  });

  it("--help on every command exits 0 with its usage", async () => {
    const names = Object.keys(COMMANDS);
    expect(names.length).toBeGreaterThanOrEqual(12);
    const helps = await Promise.all(names.map((name) => tenantry([...name.split(" "), "--help"])));
    names.forEach((name, index) => {
      const run = helps[index] as Run;
      expect({ name, code: run.code }).toEqual({ name, code: 0 });
      expect(run.stdout.startsWith(`Usage: tenantry ${COMMANDS[name]?.usage}`)).toBe(true);
    });
  });

  it("bad input exits 2 with the usage on stderr and changes nothing", async () => {
    const events = async () => Number((await sql<{ n: number }>("select count(*)::int as n from audit_events"))[0]?.n);
    const before = await events();
    const id = inv["extend-me"]?.id as string;
    const cases = [
      ["invites", "extend", "not-a-uuid"],
      ["invites", "extend", id, "--days", "31"],
      ["invites", "resend", id, "--force"],
      ["users", "list"],
      ["invites", "list", "--status", "lost"],
      ["invites", "purge-expired", "--older-than", "soon"],
      ["roles", "grant", "--user", analystId, "--role", "admin"],
      ["audit", "list", "--since", "yesterday"],
    ];
    const results = await Promise.all(cases.map((args) => tenantry(args)));
    results.forEach((run, index) => {
      const args = (cases[index] as string[]).join(" ");
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr, args).toMatch(/^tenantry: .+\n/);
      expect(run.stderr, args).toContain(`Usage: tenantry ${(cases[index] as string[]).slice(0, 2).join(" ")}`);
      expect(run.stdout, args).toBe("");
    });
    expect(await events()).toBe(before);
  });

  it("--older-than past the API's bound is a usage error with the API's words, not an invalid date", async () => {
    const run = await tenantry(["invites", "purge-expired", "--older-than", "100000000d"]);
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 2, stdout: "" });
    expect(run.stderr).toMatch(/^tenantry: --older-than: Ensure this value is less than or equal to 36500\.\n/);
  });

  it("a support engineer's session: create a superuser, find a tenant, extend an invite, purge, read the audit trail", async () => {
    const support = await signUp(`Support Co ${tag}`);
    const late = await support.admin.invite.create({ email: "late@customer.example.com", role: "ANALYST" });
    const stale = await support.admin.invite.create({ email: "stale@customer.example.com", role: null });
    await sql("update invitations set expires_at = ? where id = ?", [daysAgo(3), late.id]);
    await sql("update invitations set expires_at = ? where id = ?", [daysAgo(45), stale.id]);
    const start = runs.length;
    // The transcript is written whatever happens, so a failing session can be read too.
    try {
      const today = new Date().toISOString().slice(0, 10);

      // Every step runs even when one fails (soft expectations), so the transcript is the whole session.
      const step = async (args: string[], stdin?: string) => {
        const run = await tenantry(args, stdin);
        expect.soft({ args, code: run.code, stderr: run.stderr }).toEqual({ args, code: 0, stderr: "" });
        return run.stdout;
      };
      const created = await step(["createsuperuser", "--email", "support@platform.example.com"], `${PASSWORD}\n`);
      expect.soft(created).toMatch(/^Superuser support@platform\.example\.com created \(id [0-9a-f-]{36}\)\.\n$/);
      const tenants = await step(["tenants", "list"]);
      const slug = tenants
        .split("\n")
        .map((line) => line.split(/\s{2,}/))
        .find((cells) => cells[2] === `Support Co ${tag}`)?.[1];
      expect(slug).toBe(support.tenant.slug);
      const expired = await step(["invites", "list", "--tenant", slug as string, "--status", "expired"]);
      expect.soft(expired).toContain(late.id);
      expect.soft(expired).toContain(stale.id);
      const extended = await step(["invites", "extend", late.id, "--days", "7"]);
      expect.soft(extended).toContain(`Invitation ${late.id} for late@customer.example.com now expires`);
      const dry = await step(["invites", "purge-expired", "--older-than", "30d", "--dry-run"]);
      expect.soft(dry).toMatch(/^Dry run: 1 invitation\(s\)/);
      const purged = await step(["invites", "purge-expired", "--older-than", "30d"]);
      expect.soft(purged).toMatch(/^Purged 1 invitation\(s\)/);
      const trail = await step(["audit", "list", "--tenant", slug as string, "--since", today]);
      expect.soft(headerOf(trail)).toEqual(["WHEN", "ACTION", "ACTOR", "TENANT", "TARGET", "DETAILS"]);
      expect
        .soft(trail)
        .toMatch(new RegExp(`invitation\\.purged\\s+cli\\s+${support.tenant.id}\\s+invitation:${stale.id}`));
      expect
        .soft(trail)
        .toMatch(new RegExp(`invitation\\.extended\\s+cli\\s+${support.tenant.id}\\s+invitation:${late.id}`));

      // The superuser's creation is in the trail as the command line's, and it can log in.
      const [event] = await sql<{ actor_type: string; tenant_id: string | null; user_agent: string; details: unknown }>(
        "select actor_type, tenant_id, user_agent, details from audit_events where action = 'superuser.created'",
      );
      expect(event).toMatchObject({
        actor_type: "cli",
        tenant_id: null,
        details: { email: "support@platform.example.com" },
      });
      expect(event?.user_agent).toMatch(/^tenantry-cli \(/);
      const login = await caller().auth.login({ email: "support@platform.example.com", password: PASSWORD });
      expect(login.user.isSuperuser).toBe(true);
      // The customer can now accept the invitation that had expired.
      await caller().invite.accept({ token: late.token, password: PASSWORD });
    } finally {
      const transcript = runs
        .slice(start)
        .map((run) => {
          const command = `$ tenantry ${run.args.map((arg) => (/\s/.test(arg) ? JSON.stringify(arg) : arg)).join(" ")}`;
          const input = run.args[0] === "createsuperuser" ? "  (password piped on stdin)\n" : "";
          return `${command}\n${input}${run.stdout}${run.stderr}[exit ${run.code}]\n`;
        })
        .join("\n");
      writeFileSync("/tmp/cli-session.txt", transcript);
    }
  });
});
