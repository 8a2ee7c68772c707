import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
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

  it("listens only once the database answers and is migrated, and /readyz never answers otherwise", async () => {
    // A new data directory: the database is created and migrated while the server loads and builds.
    const fresh = join(dataDir, "fresh");
    const port = await freePort();
    const server = spawnServer({ DATA_DIR: fresh, PORT: String(port) });
    try {
      const answers: number[] = [];
      for (;;) {
        const status = await fetch(`http://127.0.0.1:${port}/readyz`).then(
          (response) => response.status,
          () => null,
        );
        if (status !== null) answers.push(status);
        if (status === 200) break;
        if (server.child.exitCode !== null) throw new Error(server.output());
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(answers).toEqual([200]);
      const output = server.output();
      const migrated = output.indexOf('"msg":"database open and migrated"');
      expect(migrated, output).toBeGreaterThan(-1);
      expect(output.indexOf('"msg":"Server listening at'), output).toBeGreaterThan(migrated);
      // The schema is there: a login looks the user up (400), it does not fail (500).
      const login = await fetch(`http://127.0.0.1:${port}/api/auth/login/`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "nobody@example.com", password: "not-the-password-1" }),
      });
      expect(login.status).toBe(400);
    } finally {
      server.child.kill("SIGKILL");
      await exitOf(server.child);
    }
  });

  it("gives the data directory back when it cannot start: its port taken, or the database unusable", async () => {
    const taken = createServer().listen(0, "127.0.0.1");
    await new Promise((resolve) => taken.once("listening", resolve));
    const address = taken.address();
    const port = typeof address === "object" && address ? address.port : 0;
    try {
      const serverTmp = mkdtempSync(join(tmpdir(), "tenantry-lifecycle-tmp-"));
      const busy = spawnServer({ DATA_DIR: dataDir, PORT: String(port), TMPDIR: serverTmp });
      expect((await exitOf(busy.child)).code, busy.output()).toBe(1);
      expect(busy.output()).toContain("EADDRINUSE");
      expect(existsSync(join(dataDir, "tenantry.lock"))).toBe(false);
      expect(readdirSync(serverTmp).filter((name) => name.startsWith("tenantry-pg-"))).toEqual([]);
      rmSync(serverTmp, { recursive: true, force: true });
    } finally {
      taken.close();
    }

    // The cluster's directory is a file: PGlite cannot start.
    const broken = join(dataDir, "broken");
    mkdirSync(broken, { recursive: true });
    writeFileSync(join(broken, "pgdata"), "not a cluster");
    const unusable = spawnServer({ DATA_DIR: broken });
    expect((await exitOf(unusable.child)).code, unusable.output()).toBe(1);
    expect(unusable.output()).toContain("Tenantry failed to start");
    expect(unusable.output()).toContain("ENOTDIR");
    expect(existsSync(join(broken, "tenantry.lock"))).toBe(false);
  });

  it("refuses to start with an invalid configuration, naming the problem", async () => {
    const server = spawnServer({ DATA_DIR: dataDir, PORT: "not-a-port", DATABASE_URL: "mysql://nope" });
    const exit = await exitOf(server.child);
    expect(exit.code).toBe(2);
    expect(server.output()).toMatch(/PORT/);
    expect(server.output()).toMatch(/DATABASE_URL: must be a postgres/);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}
