import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./test-support/server.js";

describe("health endpoints", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("answers /healthz while the process runs", async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("answers /readyz 200 when the database answers", async () => {
    const response = await fetch(`${server.url}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ready" });
  });

  it("echoes a well-formed request id and makes one up otherwise", async () => {
    const given = await fetch(`${server.url}/healthz`, { headers: { "x-request-id": "abc-123" } });
    expect(given.headers.get("x-request-id")).toBe("abc-123");
    const made = await fetch(`${server.url}/healthz`, { headers: { "x-request-id": "bad id\twith spaces" } });
    expect(made.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

// Starts a server on a database of its own, which on PGlite includes creating the cluster.
describe("readiness when the database goes away", { timeout: 60_000 }, () => {
  it("answers /readyz 503 once the database is gone, while /healthz stays 200", async () => {
    const server = await startTestServer();
    try {
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      await server.loseDatabase();
      const response = await fetch(`${server.url}/readyz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({ status: "unavailable", detail: "The database is not reachable." });
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await server.stop().catch(() => {});
    }
  });
});
