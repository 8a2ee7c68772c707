import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "@tenantry/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STRONG_PASSWORD } from "./test-support/harness.js";
import { spawnServer } from "./test-support/process.js";

/** Waits, if need be, until the current `windowMs` window of the real clock has at least `leftMs` to run. */
async function windowWithAtLeast(windowMs: number, leftMs: number): Promise<void> {
  const left = windowMs - (Date.now() % windowMs);
  if (left < leftMs) await new Promise((resolve) => setTimeout(resolve, left + 100));
}

/**
 * Nothing shared lives in one process: two servers on one database serve one
 * product — sessions, throttling and email delivery included.
 */
describe("two server processes on one database", () => {
  let testDb: TestDatabase;
  let dir: string;
  let servers: { child: ChildProcess; url: string }[] = [];
  const sent = () =>
    readFileSync(join(dir, "sent.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { invitationId: string; pid: number });

  beforeAll(async () => {
    testDb = await createTestDatabase("postgres");
    if (testDb.target.kind !== "postgres") throw new Error("needs PostgreSQL");
    dir = mkdtempSync(join(tmpdir(), "tenantry-scale-out-"));
    writeFileSync(join(dir, "sent.jsonl"), "");
    writeFileSync(
      join(dir, "hook.mjs"),
      `import { appendFileSync } from "node:fs";
       export function sendInvitationEmail(email) {
         appendFileSync(${JSON.stringify(join(dir, "sent.jsonl"))}, JSON.stringify({ invitationId: email.invitationId, pid: process.pid }) + "\\n");
       }`,
    );
    const env = {
      DATABASE_URL: testDb.target.url,
      SECRET_KEY: "a shared secret of at least thirty-two characters",
      INVITATION_EMAIL_HOOK: join(dir, "hook.mjs"),
      DATA_DIR: dir,
      // Each test speaks from an address of its own (X-Forwarded-For), so throttling counts them apart.
      TRUST_PROXY: "true",
    };
    // Both start at once on an empty database: one migrates, the other waits for it.
    const started = [spawnServer(env), spawnServer(env)];
    servers = await Promise.all(started.map(async ({ child, url }) => ({ child, url: await url })));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(
      servers.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill("SIGTERM");
          }),
      ),
    );
    await testDb?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const call = (
    server: number,
    path: string,
    init: { method?: string; token?: string; body?: unknown; from?: string } = {},
  ) =>
    fetch(`${servers[server]?.url}${path}`, {
      method: init.method ?? (init.body ? "POST" : "GET"),
      headers: {
        "x-forwarded-for": init.from ?? "198.51.100.10",
        ...(init.body ? { "content-type": "application/json" } : {}),
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      },
      body: init.body ? JSON.stringify(init.body) : undefined,
    });

  it("honours a session made by one process in the other, and ends it in both", async () => {
    expect(
      (
        await call(0, "/api/tenants/", {
          body: { name: "Twin Co", admin_email: "o@twin.example", admin_password: STRONG_PASSWORD },
        })
      ).status,
    ).toBe(201);
    const login = await call(1, "/api/auth/login/", { body: { email: "o@twin.example", password: STRONG_PASSWORD } });
    const { token } = (await login.json()) as { token: string };
    expect((await call(0, "/api/users/me/", { token })).status).toBe(200);
    expect((await call(0, "/api/auth/logout/", { method: "POST", token })).status).toBe(204);
    expect((await call(1, "/api/users/me/", { token })).status).toBe(401);
  });

  it("counts throttled calls across both processes", { timeout: 60_000 }, async () => {
    // 30 logins per minute per client IP, whichever process answers. The servers count in fixed
    // windows of their (real) clock: start the burst early in a window, so none ends inside it.
    await windowWithAtLeast(60_000, 20_000);
    const statuses: number[] = [];
    for (let i = 0; i < 32; i++) {
      const response = await call(i % 2, "/api/auth/login/", {
        from: "198.51.100.20",
        body: { email: `nobody${i}@twin.example`, password: "wrong-password-1" },
      });
      statuses.push(response.status);
    }
    expect(statuses).toEqual([...Array(30).fill(400), 429, 429]);
  });

  it("delivers each invitation email exactly once, whichever process picks it up", async () => {
    const from = "198.51.100.30";
    await call(0, "/api/tenants/", {
      from,
      body: { name: "Mail Co", admin_email: "o@mail.example", admin_password: STRONG_PASSWORD },
    });
    const login = await call(1, "/api/auth/login/", {
      from,
      body: { email: "o@mail.example", password: STRONG_PASSWORD },
    });
    const { token } = (await login.json()) as { token: string };
    expect(token, "login").toBeTruthy();
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const response = await call(i % 2, "/api/users/invite/", {
        from,
        token,
        body: { email: `guest${i}@mail.example` },
      });
      ids.push(((await response.json()) as { id: string }).id);
    }
    // Both workers poll every 2 s and are woken by their own invites: wait until every email is out.
    const deadline = Date.now() + 20_000;
    while (sent().length < ids.length && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    const deliveries = sent().filter((email) => ids.includes(email.invitationId));
    expect(deliveries.map((email) => email.invitationId).sort()).toEqual([...ids].sort());
    const pids = new Set(servers.map(({ child }) => child.pid));
    expect(deliveries.every((email) => pids.has(email.pid))).toBe(true);
  });
});
