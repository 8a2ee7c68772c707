import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { exitOf, spawnServer } from "./test-support/process.js";

describe("the server process", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "tenantry-lifecycle-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`shuts down cleanly on ${signal}: exit 0, data directory unlocked, socket removed`, async () => {
      // A temporary directory of the server's own, so other tests' embedded sockets do not count.
      const serverTmp = mkdtempSync(join(tmpdir(), "tenantry-lifecycle-tmp-"));
      const server = spawnServer({ DATA_DIR: dataDir, TMPDIR: serverTmp });
      try {
        const url = await server.url;
        expect((await fetch(`${url}/readyz`)).status).toBe(200);
        expect(existsSync(join(dataDir, "tenantry.lock"))).toBe(true);

        server.child.kill(signal);
        const exit = await exitOf(server.child);
        expect(exit, server.output()).toEqual({ code: 0, signal: null });
        expect(server.output()).toContain('"msg":"stopped"');
        expect(existsSync(join(dataDir, "tenantry.lock"))).toBe(false);
        expect(readdirSync(serverTmp).filter((name) => name.startsWith("tenantry-pg-"))).toEqual([]);
        await expect(fetch(`${url}/healthz`)).rejects.toThrow();
      } finally {
        server.child.kill("SIGKILL");
        rmSync(serverTmp, { recursive: true, force: true });
      }
    });
  }

  it("refuses to start with an invalid configuration, naming the problem", async () => {
    const server = spawnServer({ DATA_DIR: dataDir, PORT: "not-a-port", DATABASE_URL: "mysql://nope" });
    const exit = await exitOf(server.child);
    expect(exit.code).toBe(2);
    expect(server.output()).toMatch(/PORT/);
    expect(server.output()).toMatch(/DATABASE_URL: must be a postgres/);
  });
});
