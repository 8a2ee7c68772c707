import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEnv } from "../env.js";
import { createLogger } from "../logger.js";
import type { InvitationEmail } from "../mail/hook.js";
import { type RunningServer, startServer } from "../server.js";
import { brokenInvariants } from "../test-support/invariants.js";
import { createDatabase, type PrivatePostgres, startPrivatePostgres } from "../test-support/private-postgres.js";
import { PASSWORD, RestClient, type RestTenant, signUpRest } from "../test-support/rest.js";

/**
 * Faults under load, on a PostgreSQL cluster this test owns: mixed concurrent
 * traffic while the database is restarted, crashes, ends the server's sessions
 * and refuses connections for a while. While it is away requests answer 503
 * (never 500) and /readyz says so; once it is back nothing answers 5xx, every
 * acknowledged write is stored, the invariants hold and no email goes twice.
 */
const WORKERS = 6;
const DATABASE = "tenantry_faults";
const resultsDir = new URL("../../../../.test-results/", import.meta.url).pathname;

interface Outcome {
  op: string;
  startedAt: number;
  endedAt: number;
  status: number;
}

describe("faults under load", () => {
  let cluster: PrivatePostgres;
  let server: RunningServer;
  let api: RestClient;
  let acme: RestTenant;
  const emails: InvitationEmail[] = [];

  beforeAll(async () => {
    cluster = await startPrivatePostgres();
    await createDatabase(cluster, DATABASE);
    const env = loadEnv({ NODE_ENV: "test", PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent", THROTTLE: "off" });
    server = await startServer(env, createLogger(env.logLevel), {
      target: { kind: "postgres", url: cluster.url(DATABASE) },
      overrides: {
        key: randomBytes(32),
        retryDelaysMs: [200, 500, 1000, 2000, 4000],
        hook: (email) => {
          emails.push(email);
        },
      },
    });
    api = new RestClient(server.url);
    acme = await signUpRest(api);
  }, 120_000);
  afterAll(async () => {
    await server?.close().catch(() => {});
    await cluster?.destroy();
  });

  it("answers 503 while the database is away, recovers, loses no acknowledged write and keeps the invariants", async () => {
    const outcomes: Outcome[] = [];
    const ready: { at: number; status: number }[] = [];
    const acknowledged = { invitations: [] as { id: string; token: string }[], users: [] as string[] };
    let stopping = false;
    let counter = 0;

    const request = async (op: string, send: () => Promise<Response>) => {
      const startedAt = performance.now();
      let status: number;
      let body: Record<string, unknown> | undefined;
      try {
        const response = await send();
        status = response.status;
        body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
      } catch {
        status = 0; // the connection failed: counted, never a 5xx
      }
      outcomes.push({ op, startedAt, endedAt: performance.now(), status });
      return { status, body };
    };
    const auth = { authorization: `Bearer ${acme.adminToken}`, "content-type": "application/json" };

    const worker = async () => {
      while (!stopping) {
        counter += 1;
        const n = counter;
        if (n % 3 === 0) {
          const { status, body } = await request("invite", () =>
            fetch(`${server.url}/api/users/invite/`, {
              method: "POST",
              headers: auth,
              body: JSON.stringify({ email: `load${n}@faults.example.com`, role: "VIEWER" }),
            }),
          );
          if (status === 201 && body) acknowledged.invitations.push({ id: String(body.id), token: String(body.token) });
        } else if (n % 7 === 0 && acknowledged.invitations.length > acknowledged.users.length) {
          const invitation = acknowledged.invitations[acknowledged.users.length];
          if (!invitation) continue;
          const { status, body } = await request("accept", () =>
            fetch(`${server.url}/api/users/accept-invite/`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ token: invitation.token, password: PASSWORD }),
            }),
          );
          if (status === 201 && body) acknowledged.users.push(String(body.id));
          else if (status === 400) acknowledged.users.push(""); // accepted in an earlier, unacknowledged try
        } else if (n % 11 === 0) {
          await request("login", () =>
            fetch(`${server.url}/api/auth/login/`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ email: acme.adminEmail, password: PASSWORD }),
            }),
          );
        } else {
          await request("list", () => fetch(`${server.url}/api/users/?limit=20`, { headers: auth }));
        }
      }
    };
    const readiness = async () => {
      while (!stopping) {
        const at = performance.now();
        const response = await fetch(`${server.url}/readyz`).catch(() => undefined);
        ready.push({ at, status: response?.status ?? 0 });
        await sleep(50);
      }
    };

    /** Waits until /readyz answers 200 again; the time it took from `since`. */
    const backAfter = async (since: number) => {
      for (;;) {
        const answer = ready.find((entry) => entry.at > since && entry.status === 200);
        if (answer) return answer.at;
        await sleep(25);
      }
    };

    const faults: { name: string; apply: () => Promise<void>; lift: () => Promise<void> }[] = [
      { name: "restart", apply: () => cluster.stop("fast"), lift: () => cluster.start() },
      {
        name: "crash (immediate stop) and recovery",
        apply: () => cluster.stop("immediate"),
        lift: () => cluster.start(),
      },
      { name: "sessions terminated", apply: () => cluster.terminate(DATABASE), lift: async () => {} },
      {
        name: "connections refused for 3 s",
        apply: async () => {
          await cluster.refuse(DATABASE, true);
          await sleep(3000);
        },
        lift: () => cluster.refuse(DATABASE, false),
      },
    ];

    const loops = [...Array.from({ length: WORKERS }, worker), readiness()];
    await sleep(1000);
    const figures: { fault: string; unavailableMs: number; recoveryMs: number; readyWent503: boolean }[] = [];
    const windows: [number, number][] = [];
    for (const fault of faults) {
      const startedAt = performance.now();
      await fault.apply();
      await fault.lift();
      const liftedAt = performance.now();
      const back = await backAfter(liftedAt);
      windows.push([startedAt, back]);
      figures.push({
        fault: fault.name,
        unavailableMs: Math.round(liftedAt - startedAt),
        recoveryMs: Math.round(back - liftedAt),
        readyWent503: ready.some((entry) => entry.at >= startedAt && entry.at <= back && entry.status === 503),
      });
      await sleep(1500);
    }
    stopping = true;
    await Promise.all(loops);

    // The readiness probe saw each outage that lasted (a terminated session is replaced at once).
    expect(figures.filter((figure) => figure.fault !== "sessions terminated").every((f) => f.readyWent503)).toBe(true);
    // During an outage: 503 (or a refused connection), never 500. Outside every outage: no 5xx at all.
    const inOutage = (o: Outcome) => windows.some(([from, to]) => o.endedAt >= from && o.startedAt <= to);
    const serverErrors = outcomes.filter((o) => o.status >= 500 && (o.status !== 503 || !inOutage(o)));
    expect(serverErrors).toEqual([]);
    expect(outcomes.filter((o) => o.status === 503).length).toBeGreaterThan(0);

    // Every write acknowledged with 2xx is there.
    const db = server.db.orm.em.getConnection();
    const stored = new Set(
      (await db.execute<{ id: string }[]>("select id from invitations")).map((row) => String(row.id)),
    );
    const lostInvitations = acknowledged.invitations.filter((invitation) => !stored.has(invitation.id));
    const users = new Set((await db.execute<{ id: string }[]>("select id from users")).map((row) => String(row.id)));
    const lostUsers = acknowledged.users.filter((id) => id && !users.has(id));
    expect(lostInvitations).toEqual([]);
    expect(lostUsers).toEqual([]);
    expect(acknowledged.invitations.length).toBeGreaterThan(20);

    // Emails: the outbox drains; none is sent twice; every `sent` was sent once.
    for (let pass = 0; pass < 40 && (await server.services.delivery.runOnce()) > 0; pass += 1);
    const sentTimes = new Map<string, number>();
    for (const email of emails) sentTimes.set(email.invitationId, (sentTimes.get(email.invitationId) ?? 0) + 1);
    const rows = await db.execute<{ id: string; email_delivery: string }[]>(
      "select id, email_delivery from invitations where state = 'pending' or email_delivery <> 'pending'",
    );
    const twice = [...sentTimes].filter(([, times]) => times > 1);
    const sentNotOnce = rows.filter((row) => row.email_delivery === "sent" && sentTimes.get(row.id) !== 1);
    expect(twice).toEqual([]);
    expect(sentNotOnce).toEqual([]);
    /** Sent, but the `sent` mark was lost with the database: delivered again once its claim's lease runs out. */
    const markLost = rows.filter((row) => row.email_delivery === "pending" && sentTimes.get(row.id) === 1).length;

    expect(await brokenInvariants((sql) => db.execute(sql))).toEqual([]);

    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(
      `${resultsDir}faults.json`,
      JSON.stringify(
        {
          requests: outcomes.length,
          answered503: outcomes.filter((o) => o.status === 503).length,
          connectionFailures: outcomes.filter((o) => o.status === 0).length,
          acknowledgedWrites: acknowledged.invitations.length + acknowledged.users.filter(Boolean).length,
          writesLost: lostInvitations.length + lostUsers.length,
          emailsSent: emails.length,
          emailMarksLost: markLost,
          faults: figures,
        },
        null,
        2,
      ),
    );
  }, 180_000);
});
