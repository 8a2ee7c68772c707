import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { openDatabase } from "@tenantry/db";
import { createTestDatabase } from "@tenantry/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp, DEFAULT_HTTP_TIMEOUTS, type HttpTimeouts } from "../app.js";
import { loadEnv } from "../env.js";
import { createLogger } from "../logger.js";
import { createServices } from "../services.js";
import { RestClient, type RestTenant, signUpRest, statusOf } from "../test-support/rest.js";
import { startTestServer, type TestServer } from "../test-support/server.js";

/**
 * Slow and idle clients (slowloris) do not starve the others: connections that
 * trickle their headers or body, connections that send nothing and idle
 * keep-alive connections are open while a normal client is served promptly,
 * and each of them is cut off once its timeout has passed. The timeouts are
 * shortened here; their production values are checked separately.
 */
const TIMEOUTS: HttpTimeouts = {
  headersTimeout: 3_000,
  requestTimeout: 4_000,
  keepAliveTimeout: 1_000,
  connectionTimeout: 10_000,
  connectionsCheckingInterval: 200,
};
const HEADER_TRICKLERS = 40;
const BODY_TRICKLERS = 10;
const SILENT = 50;
const IDLE_KEEP_ALIVE = 200;
/** How late a cut-off may come: the checking interval, Node's 1 s keep-alive grace and a loaded machine. */
const SLACK_MS = 2_000;
const resultsDir = new URL("../../../../.test-results/", import.meta.url).pathname;

interface Connection {
  socket: Socket;
  received: () => string;
  /** When the first byte of an answer arrived (ms, performance.now()). */
  answeredAt: () => number | undefined;
  closed: Promise<number>;
}

function open(port: number): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let received = "";
    let answeredAt: number | undefined;
    socket.on("data", (chunk) => {
      answeredAt ??= performance.now();
      received += chunk.toString("latin1");
    });
    socket.on("error", () => {});
    const closed = new Promise<number>((done) => socket.once("close", () => done(performance.now())));
    socket.once("connect", () => resolve({ socket, received: () => received, answeredAt: () => answeredAt, closed }));
    socket.once("error", reject);
  });
}

const round = (ms: number | undefined) => Math.round((ms ?? Number.NaN) * 10) / 10;

/** Writes one byte a second until the socket closes. */
function trickle(connection: Connection, text: string): void {
  let sent = 0;
  const write = () => {
    if (connection.socket.destroyed || sent >= text.length) return;
    connection.socket.write(text.slice(sent, sent + 1));
    sent += 1;
  };
  write();
  const timer = setInterval(write, 1_000);
  connection.closed.then(() => clearInterval(timer));
}

describe("slow and idle clients", () => {
  let server: TestServer;
  let api: RestClient;
  let acme: RestTenant;
  let port: number;
  const opened: Connection[] = [];

  beforeAll(async () => {
    server = await startTestServer({ env: { THROTTLE: "off" }, timeouts: TIMEOUTS });
    api = new RestClient(server.url);
    acme = await signUpRest(api);
    port = Number(new URL(server.url).port);
  });
  afterAll(async () => {
    for (const connection of opened) connection.socket.destroy();
    await server?.stop();
  });

  it("serve a normal client promptly while trickling, silent and idle connections are open, then cut them off", async () => {
    const startedAt = performance.now();
    const connect = async (count: number) => {
      const connections = await Promise.all(Array.from({ length: count }, () => open(port)));
      opened.push(...connections);
      return connections;
    };
    const headerTricklers = await connect(HEADER_TRICKLERS);
    for (const connection of headerTricklers) {
      trickle(connection, `GET /api/users/me/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${acme.adminToken}\r\n\r\n`);
    }
    const bodyTricklers = await connect(BODY_TRICKLERS);
    const body = JSON.stringify({ email: "slow@slow.example.com", role: "VIEWER" });
    for (const connection of bodyTricklers) {
      connection.socket.write(
        `POST /api/users/invite/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${acme.adminToken}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      );
      trickle(connection, body);
    }
    const silent = await connect(SILENT);
    // Keep-alive connections that made one request and now sit idle.
    const idle = await connect(IDLE_KEEP_ALIVE);
    await Promise.all(
      idle.map(async (connection) => {
        connection.socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        while (!connection.received().includes("\r\n\r\n")) await new Promise((r) => setTimeout(r, 5));
      }),
    );
    const idleSince = performance.now();

    // A normal client, meanwhile, is served promptly (each call well within the shortest timeout).
    const latencies: number[] = [];
    for (let n = 0; n < 10; n += 1) {
      const before = performance.now();
      const reply = await api.get("/api/users/me/", { token: acme.adminToken });
      latencies.push(performance.now() - before);
      expect(reply.status, statusOf(reply)).toBe(200);
    }
    const stillOpen = [...headerTricklers, ...bodyTricklers, ...silent].filter((c) => !c.socket.destroyed).length;
    expect(stillOpen, "the slow connections were open while the normal client was served").toBe(
      HEADER_TRICKLERS + BODY_TRICKLERS + SILENT,
    );
    expect(Math.max(...latencies)).toBeLessThan(TIMEOUTS.keepAliveTimeout);
    const sorted = [...latencies].sort((a, b) => a - b);
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(
      `${resultsDir}slow-clients.json`,
      JSON.stringify({
        slowConnections: stillOpen,
        idleKeepAlive: IDLE_KEEP_ALIVE,
        normalClientMs: { median: round(sorted[5]), max: round(sorted[9]) },
      }),
    );

    // Trickling headers and silent connections: 408 once the headers timeout has passed.
    for (const connection of [...headerTricklers, ...silent]) {
      const closedAt = await connection.closed;
      expect(connection.received()).toMatch(
        /^HTTP\/1\.1 408 Request Timeout\r\n[\s\S]*\{"detail":"Request timeout\."\}$/,
      );
      expect(closedAt - startedAt).toBeGreaterThanOrEqual(TIMEOUTS.headersTimeout - 50);
      expect(closedAt - startedAt).toBeLessThan(TIMEOUTS.headersTimeout + SLACK_MS + 1_000);
    }
    // A trickling body: 408 once the request timeout has passed, and nothing was invited.
    for (const connection of bodyTricklers) {
      const closedAt = await connection.closed;
      expect(connection.received()).toMatch(/^HTTP\/1\.1 408 /);
      expect(closedAt - startedAt).toBeGreaterThanOrEqual(TIMEOUTS.requestTimeout - 50);
      expect(closedAt - startedAt).toBeLessThan(TIMEOUTS.requestTimeout + SLACK_MS + 1_000);
    }
    const invitations = await api.get("/api/users/invitations/", { token: acme.adminToken });
    expect(invitations.body).toEqual([]);
    // Idle keep-alive connections: closed after the keep-alive timeout, told so in their answer.
    for (const connection of idle) {
      expect(connection.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*keep-alive: timeout=1\r\n/i);
      const closedAt = await connection.closed;
      expect(closedAt - idleSince).toBeGreaterThanOrEqual(TIMEOUTS.keepAliveTimeout - 50);
      expect(closedAt - idleSince).toBeLessThan(TIMEOUTS.keepAliveTimeout + SLACK_MS);
    }
  }, 20_000);
});

describe("the production timeouts", () => {
  it("bound every phase of a connection", async () => {
    const testDb = await createTestDatabase();
    const env = loadEnv({ NODE_ENV: "test", LOG_LEVEL: "silent" });
    const db = await openDatabase(testDb.target, { poolSize: 1 });
    const services = await createServices(env, db, createLogger("silent"), { key: randomBytes(32) });
    const app = await buildApp({ env, db, logger: createLogger("silent"), services: services.services });
    try {
      const http = app.server;
      expect(DEFAULT_HTTP_TIMEOUTS).toEqual({
        headersTimeout: 10_000,
        requestTimeout: 30_000,
        keepAliveTimeout: 65_000,
        connectionTimeout: 90_000,
        connectionsCheckingInterval: 1_000,
      });
      expect({
        headersTimeout: http.headersTimeout,
        requestTimeout: http.requestTimeout,
        keepAliveTimeout: http.keepAliveTimeout,
        connectionTimeout: http.timeout,
      }).toEqual({
        headersTimeout: 10_000,
        requestTimeout: 30_000,
        keepAliveTimeout: 65_000,
        connectionTimeout: 90_000,
      });
      // The headers are due before the whole request, and idle keep-alive ends before the inactivity cut.
      expect(http.headersTimeout).toBeLessThan(http.requestTimeout);
      expect(http.keepAliveTimeout).toBeLessThan(http.timeout);
    } finally {
      await app.close();
      await services.stop();
      await db.close();
      await testDb.drop();
    }
  });
});
