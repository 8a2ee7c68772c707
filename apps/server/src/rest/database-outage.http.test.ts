import { randomBytes } from "node:crypto";
import { connect, createServer, type Server, type Socket } from "node:net";
import { createTestDatabase, type TestDatabase, withAdminClient } from "@tenantry/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEnv } from "../env.js";
import { createLogger } from "../logger.js";
import { type RunningServer, startServer } from "../server.js";
import { type Json, RestClient, type RestTenant, signUpRest, statusOf } from "../test-support/rest.js";

/**
 * While PostgreSQL cannot be reached, requests answer 503 with Retry-After
 * (REST) or SERVICE_UNAVAILABLE (tRPC), never 500, and the server serves
 * again once the database is back. The server reaches PostgreSQL through a
 * TCP relay the test can cut, and PostgreSQL itself is made to refuse it.
 */
const UNAVAILABLE = { detail: "Service temporarily unavailable." };

/** A TCP relay to PostgreSQL that can be cut (open connections dropped, new ones refused) and restored. */
class Relay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly host: string,
    private readonly targetPort: number,
  ) {}

  async open(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.targetPort, this.host);
      const pair = [client, upstream];
      for (const socket of pair) {
        this.sockets.add(socket);
        // One side gone (closed, or reset: pipe does not pass a reset on), the other goes too, as on a real
        // connection; otherwise the server's end would wait for an answer that can never come.
        socket.on("close", () => {
          this.sockets.delete(socket);
          for (const other of pair) other.destroy();
        });
        socket.on("error", () => {});
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, "127.0.0.1", resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Drops every open connection and stops listening: connecting is refused. */
  async cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server?.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}

describe("requests while the database cannot be reached", () => {
  let testDb: TestDatabase;
  let relay: Relay;
  let server: RunningServer;
  let api: RestClient;
  let acme: RestTenant;
  let databaseName: string;

  beforeAll(async () => {
    testDb = await createTestDatabase("postgres");
    if (testDb.target.kind !== "postgres") throw new Error("needs PostgreSQL");
    const url = new URL(testDb.target.url);
    databaseName = url.pathname.slice(1);
    relay = new Relay(url.hostname, Number(url.port || 5432));
    await relay.open();
    url.hostname = "127.0.0.1";
    url.port = String(relay.port);
    const env = loadEnv({ NODE_ENV: "test", PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent", THROTTLE: "off" });
    server = await startServer(env, createLogger(env.logLevel), {
      target: { kind: "postgres", url: url.toString() },
      overrides: { key: randomBytes(32) },
    });
    api = new RestClient(server.url);
    acme = await signUpRest(api);
  });
  afterAll(async () => {
    await withAdminClient((client) => client.query(`alter database "${databaseName}" allow_connections true`)).catch(
      () => {},
    );
    await server?.close();
    await relay?.cut().catch(() => {});
    await testDb?.drop();
  });

  /** What every kind of call answers now: REST reads and writes, tRPC queries (both paths) and mutations. */
  async function answers() {
    const trpc = async (path: string, init: RequestInit = {}) => {
      const response = await fetch(`${server.url}/trpc/${path}`, {
        ...init,
        headers: { authorization: `Bearer ${acme.adminToken}`, "content-type": "application/json" },
      });
      return {
        status: response.status,
        retryAfter: response.headers.get("retry-after"),
        body: (await response.json()) as Json,
      };
    };
    return {
      restRead: await api.get("/api/users/", { token: acme.adminToken }),
      restWrite: await api.post(
        "/api/users/invite/",
        { email: "outage@outage.example.com" },
        { token: acme.adminToken },
      ),
      restLogin: await api.post("/api/auth/login/", { email: acme.adminEmail, password: "correct-Horse-battery-9" }),
      trpcQuery: await trpc("user.me"),
      trpcAdapterQuery: await trpc("user.me?via=adapter"),
      trpcMutation: await trpc("invite.create", {
        method: "POST",
        body: JSON.stringify({ email: "o2@outage.example.com" }),
      }),
    };
  }

  function expectUnavailable(now: Awaited<ReturnType<typeof answers>>) {
    for (const reply of [now.restRead, now.restWrite, now.restLogin]) {
      expect(reply.status, statusOf(reply)).toBe(503);
      expect(reply.body).toEqual(UNAVAILABLE);
      expect(reply.headers.get("retry-after")).toBe("5");
    }
    for (const reply of [now.trpcQuery, now.trpcAdapterQuery, now.trpcMutation]) {
      expect(reply.status, JSON.stringify(reply.body)).toBe(503);
      expect(reply.retryAfter).toBe("5");
      expect(reply.body.error.message).toBe("Service temporarily unavailable.");
      expect(reply.body.error.data).toMatchObject({ code: "SERVICE_UNAVAILABLE", httpStatus: 503, retryAfter: 5 });
    }
  }

  async function expectServing() {
    const users = await api.get("/api/users/", { token: acme.adminToken });
    expect(users.status, statusOf(users)).toBe(200);
    expect(users.body.map((user: Json) => user.email)).toEqual([acme.adminEmail]);
    const me = await fetch(`${server.url}/trpc/user.me`, { headers: { authorization: `Bearer ${acme.adminToken}` } });
    expect(me.status).toBe(200);
  }

  it("answers 503 with Retry-After while connections are dropped and refused, and serves again after", async () => {
    await expectServing();
    await relay.cut();
    expectUnavailable(await answers());
    // Liveness does not depend on the database.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    await relay.open();
    await expectServing();
  });

  it("answers 503 while PostgreSQL ends the server's sessions and refuses new ones, and serves again after", async () => {
    await expectServing();
    await withAdminClient(async (client) => {
      await client.query(`alter database "${databaseName}" allow_connections false`);
      await client.query("select pg_terminate_backend(pid) from pg_stat_activity where datname = $1", [databaseName]);
    });
    expectUnavailable(await answers());
    await withAdminClient((client) => client.query(`alter database "${databaseName}" allow_connections true`));
    await expectServing();
    // Nothing was half-done while it was away.
    const invitations = await api.get("/api/users/invitations/", { token: acme.adminToken });
    expect(invitations.body).toEqual([]);
  });
});
