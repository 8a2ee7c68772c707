import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type DatabaseTarget, openDatabase } from "@tenantry/db";
import { createTestDatabase, type TestDatabase } from "@tenantry/db/testing";
import { afterAll, describe, expect, it } from "vitest";
import { brokenInvariants } from "../test-support/invariants.js";
import { exitOf, spawnServer } from "../test-support/process.js";
import { RestClient, signUpRest, statusOf } from "../test-support/rest.js";

/**
 * Crash durability: the real entry point is SIGKILLed in the middle of a
 * burst of writes, on PostgreSQL and on the embedded database (its data
 * directory). Started again on the same data, it serves; every write it
 * acknowledged is there and the invariants hold.
 */
const WRITERS = 8;
const resultsDir = new URL("../../../../.test-results/", import.meta.url).pathname;
const figures: Record<string, unknown> = {};

describe("SIGKILL during a write burst", () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(`${resultsDir}crash.json`, JSON.stringify(figures, null, 2));
  });

  async function crashAndRestart(name: string, env: Record<string, string>, target: DatabaseTarget) {
    const first = spawnServer({ THROTTLE: "off", LOG_LEVEL: "info", ...env });
    cleanups.push(() => {
      first.child.kill("SIGKILL");
    });
    const api = new RestClient(await first.url);
    const acme = await signUpRest(api);
    const acknowledged: string[] = [];
    let attempted = 0;
    let stopping = false;
    const writer = async (w: number) => {
      for (let n = 0; !stopping; n += 1) {
        attempted += 1;
        try {
          const reply = await api.post(
            "/api/users/invite/",
            { email: `crash-${w}-${n}@crash.example.com`, role: "VIEWER" },
            { token: acme.adminToken },
          );
          if (reply.status === 201) acknowledged.push(reply.body.id);
        } catch {
          return; // the server is gone
        }
      }
    };
    const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
    while (acknowledged.length < 40) await sleep(10);
    first.child.kill("SIGKILL");
    const killed = await exitOf(first.child);
    stopping = true;
    await Promise.all(writers);
    expect(killed.signal).toBe("SIGKILL");

    const startedAt = performance.now();
    const second = spawnServer({ THROTTLE: "off", LOG_LEVEL: "info", ...env });
    cleanups.push(() => {
      second.child.kill("SIGKILL");
    });
    const again = new RestClient(await second.url);
    const restartMs = Math.round(performance.now() - startedAt);
    const listed = await again.get("/api/users/invitations/?limit=1000", { token: acme.adminToken });
    expect(listed.status, statusOf(listed)).toBe(200);
    const stored = new Set(listed.body.results.map((invitation: { id: string }) => invitation.id));
    const lost = acknowledged.filter((id) => !stored.has(id));
    expect(lost).toEqual([]);
    // The server answers writes again.
    const after = await again.post(
      "/api/users/invite/",
      { email: "after@crash.example.com" },
      { token: acme.adminToken },
    );
    expect(after.status, statusOf(after)).toBe(201);
    second.child.kill("SIGTERM");
    expect((await exitOf(second.child)).code).toBe(0);

    const db = await openDatabase(target, { poolSize: 1 });
    try {
      expect(await brokenInvariants((sql) => db.orm.em.getConnection().execute(sql))).toEqual([]);
    } finally {
      await db.close();
    }
    figures[name] = { attempted, acknowledged: acknowledged.length, lost: lost.length, restartMs };
  }

  it("loses no acknowledged write on PostgreSQL", async () => {
    const testDb: TestDatabase = await createTestDatabase("postgres");
    cleanups.push(() => testDb.drop());
    if (testDb.target.kind !== "postgres") throw new Error("needs PostgreSQL");
    await crashAndRestart("postgres", { DATABASE_URL: testDb.target.url }, testDb.target);
  }, 120_000);

  it("loses no acknowledged write on the embedded database, whose data directory survives the kill", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tenantry-crash-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const dataDir = join(dir, "data");
    await crashAndRestart("embedded", { DATA_DIR: dataDir }, { kind: "embedded", dataDir });
  }, 120_000);
});
