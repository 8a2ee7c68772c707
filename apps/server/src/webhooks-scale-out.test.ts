import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Database, openDatabase } from "@tenantry/db";
import { createTestDatabase, type TestDatabase } from "@tenantry/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "./domain/clock.js";
import { createSuperuser } from "./domain/users.js";
import { STRONG_PASSWORD } from "./test-support/harness.js";
import { exitOf, spawnServer } from "./test-support/process.js";
import { now, type Received, type Receiver, startReceiver } from "./test-support/webhook-receiver.js";

/**
 * Webhook delivery across real server processes on one PostgreSQL: each
 * event is sent once at a time whichever process claims it, in order per
 * tenant, and a process killed mid-delivery loses nothing.
 */

const SECRET_KEY = "webhooks-scale-out-test-key-0123456789abcdef";

interface Server {
  child: ChildProcess;
  url: string;
}

async function start(env: Record<string, string>): Promise<Server> {
  const { child, url } = spawnServer(env);
  return { child, url: await url };
}

async function stop(server: Server): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = exitOf(server.child);
  server.child.kill("SIGTERM");
  await exited;
}

async function call<T>(server: Server, path: string, init: { token?: string; body?: unknown } = {}) {
  const response = await fetch(`${server.url}${path}`, {
    method: init.body ? "POST" : "GET",
    headers: {
      ...(init.body ? { "content-type": "application/json" } : {}),
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
    },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${path}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

async function login(server: Server, email: string): Promise<string> {
  return (await call<{ token: string }>(server, "/api/auth/login/", { body: { email, password: STRONG_PASSWORD } }))
    .token;
}

/** A platform superuser, made as the CLI makes one. */
async function staffToken(db: Database, server: Server, email: string): Promise<string> {
  await createSuperuser(
    {
      em: db.orm.em.fork(),
      clock: systemClock,
      audit: { actor: { type: "cli" }, client: { ip: null, userAgent: "test" } },
    },
    { email, password: STRONG_PASSWORD },
  );
  return login(server, email);
}

const bodyOf = (request: Received) =>
  JSON.parse(request.body) as { id: string; type: string; tenant: string; data: { target: { id: string } } };

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
};

describe("webhooks with two server processes on one database", { timeout: 120_000 }, () => {
  let testDb: TestDatabase;
  let db: Database;
  let dir: string;
  let receiver: Receiver;
  let servers: Server[] = [];
  let token: string;

  beforeAll(async () => {
    testDb = await createTestDatabase("postgres");
    if (testDb.target.kind !== "postgres") throw new Error("needs PostgreSQL");
    dir = mkdtempSync(join(tmpdir(), "tenantry-webhooks-"));
    receiver = await startReceiver();
    const env = { DATABASE_URL: testDb.target.url, SECRET_KEY, DATA_DIR: dir, THROTTLE: "off" };
    servers = await Promise.all([start(env), start(env)]);
    db = await openDatabase(testDb.target, { poolSize: 2 });
    token = await staffToken(db, servers[0] as Server, "staff@scale.example.com");
    await call(servers[0] as Server, "/api/ops/webhooks/", {
      token,
      body: { url: receiver.url, event_types: ["invitation.created"] },
    });
  }, 90_000);

  afterAll(async () => {
    await Promise.all(servers.map(stop));
    await receiver?.close();
    await db?.close();
    await testDb?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function tenants(count: number, tag: string) {
    return Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const server = servers[i % 2] as Server;
        const email = `admin@${tag}-${i}.example.com`;
        const tenant = await call<{ id: string }>(server, "/api/tenants/", {
          body: { name: `${tag} ${i}`, admin_email: email, admin_password: STRONG_PASSWORD },
        });
        return { id: tenant.id, token: await login(server, email) };
      }),
    );
  }

  it("100 events from both processes: each delivered exactly once, in order per tenant (throughput measured)", async () => {
    const owners = await tenants(10, "Scale");
    const created: Record<string, string[]> = {};
    const started = now();
    // Ten tenants at once, each inviting ten people one after another, alternating processes.
    await Promise.all(
      owners.map(async (owner, t) => {
        created[owner.id] = [];
        for (let i = 0; i < 10; i++) {
          const invitation = await call<{ id: string }>(servers[(t + i) % 2] as Server, "/api/users/invite/", {
            token: owner.token,
            body: { email: `guest${i}@scale-${t}.example.com` },
          });
          created[owner.id]?.push(invitation.id);
        }
      }),
    );
    const committed = now();
    const received = await receiver.waitFor(100, (request) => bodyOf(request).type === "invitation.created");
    const finished = Math.max(...received.map((request) => request.at));
    // Let a straggler (a second send) show itself before counting.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const all = receiver.received.filter((request) => bodyOf(request).type === "invitation.created");
    expect(all).toHaveLength(100);
    expect(new Set(all.map((request) => request.headers["webhook-id"])).size).toBe(100);
    expect(new Set(all.map((request) => bodyOf(request).id)).size).toBe(100);
    for (const owner of owners) {
      const order = all.filter((request) => bodyOf(request).tenant === owner.id).map((r) => bodyOf(r).data.target.id);
      expect(order).toEqual(created[owner.id]);
    }
    const seconds = (finished - started) / 1000;
    process.stderr.write(
      `webhooks throughput: 100 events over 10 tenants from 2 processes, first request to last receipt ${seconds.toFixed(2)} s ` +
        `(${(100 / seconds).toFixed(1)} events/s); last receipt ${(finished - committed).toFixed(0)} ms after the last commit\n`,
    );
    const [counts] = await db.orm.em
      .fork()
      .getConnection()
      .execute<{ delivered: number; attempts: number }[]>(
        "select count(*)::int as delivered, sum(attempts)::int as attempts from webhook_deliveries where status = 'delivered' and event_type = 'invitation.created'",
      );
    expect(counts).toEqual({ delivered: 100, attempts: 100 });
  });

  it("latency from commit to receipt, one event at a time (measured)", async () => {
    const [owner] = await tenants(1, "Latency");
    const afterResponse: number[] = [];
    const afterRequest: number[] = [];
    for (let i = 0; i < 30; i++) {
      const sent = now();
      const invitation = await call<{ id: string }>(servers[i % 2] as Server, "/api/users/invite/", {
        token: owner?.token,
        body: { email: `l${i}@latency.example.com` },
      });
      const answered = now();
      const [request] = await receiver.waitFor(1, (r) => bodyOf(r).data.target?.id === invitation.id);
      afterRequest.push((request as Received).at - sent);
      afterResponse.push((request as Received).at - answered);
    }
    const p50 = percentile(afterRequest, 50);
    process.stderr.write(
      `webhooks latency over 30 events: receipt after the change's request was sent p50 ${p50.toFixed(1)} ms, p95 ${percentile(afterRequest, 95).toFixed(1)} ms; ` +
        `receipt after its response arrived p50 ${percentile(afterResponse, 50).toFixed(1)} ms\n`,
    );
    // Woken after commit, not left to the poll.
    expect(p50).toBeLessThan(500);
  });
});

describe("a server killed during a delivery", { timeout: 120_000 }, () => {
  let testDb: TestDatabase;
  let db: Database;
  let dir: string;
  let receiver: Receiver;
  const servers: Server[] = [];

  beforeAll(async () => {
    testDb = await createTestDatabase("postgres");
    if (testDb.target.kind !== "postgres") throw new Error("needs PostgreSQL");
    dir = mkdtempSync(join(tmpdir(), "tenantry-webhooks-kill-"));
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await Promise.all(servers.map(stop));
    await receiver?.close();
    await db?.close();
    await testDb?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("delivers after a restart, with the same webhook-id and body", async () => {
    // A one-second POST timeout makes the claim's lease three seconds.
    const env = {
      DATABASE_URL: testDb.target.kind === "postgres" ? testDb.target.url : "",
      SECRET_KEY,
      DATA_DIR: dir,
      THROTTLE: "off",
      WEBHOOK_TIMEOUT_SECONDS: "1",
    };
    const first = await start(env);
    servers.push(first);
    db = await openDatabase(testDb.target, { poolSize: 2 });
    const token = await staffToken(db, first, "staff@kill.example.com");
    const endpoint = await call<{ id: string }>(first, "/api/ops/webhooks/", {
      token,
      body: { url: receiver.url, event_types: ["tenant.created"] },
    });
    // The first request is held open; the server dies while it waits.
    receiver.respond = (_request, index) => (index === 0 ? "hang" : 200);
    const tenant = await call<{ id: string; admin_user_id: string }>(first, "/api/tenants/", {
      body: { name: "Killed Co", admin_email: "o@killed.example.com", admin_password: STRONG_PASSWORD },
    });
    const [inFlight] = await receiver.waitFor(1);
    first.child.kill("SIGKILL");
    expect(await exitOf(first.child)).toEqual({ code: null, signal: "SIGKILL" });

    const second = await start(env);
    servers.push(second);
    const [, again] = await receiver.waitFor(2);
    expect(again?.headers["webhook-id"]).toBe(inFlight?.headers["webhook-id"]);
    expect(again?.body).toBe(inFlight?.body);
    expect(JSON.parse(again?.body ?? "{}")).toMatchObject({
      type: "tenant.created",
      tenant: tenant.id,
      data: { admin_user_id: tenant.admin_user_id },
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const [delivery] = await call<{ status: string; attempts: number; attempt_log: unknown[] }[]>(
      second,
      `/api/ops/webhooks/${endpoint.id}/deliveries/`,
      { token },
    );
    // The killed attempt left no record but counts; the second succeeded.
    expect(delivery).toMatchObject({ status: "delivered", attempts: 2 });
    expect(delivery?.attempt_log).toEqual([
      expect.objectContaining({ attempt: 2, succeeded: true, response_status: 200 }),
    ]);
    expect(receiver.received).toHaveLength(2);
  });
});
