import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { DatabaseTarget } from "./database.js";

/**
 * Test support. Every test gets a database of its own:
 * - on PostgreSQL (the server named by `TEST_DATABASE_URL`, default the local
 *   one), a freshly created database, dropped afterwards;
 * - on the embedded backend, a fresh PGlite data directory (a temporary
 *   directory, removed afterwards), so that the target can be opened again —
 *   by a server or CLI process, or a later `openDatabase` — and names the same
 *   database. PGlite is one process per data directory at a time (a lock file):
 *   close it before another opens it.
 * `TENANTRY_TEST_BACKEND` (set by `npm test`) picks the default; unset, the
 * local PostgreSQL is used when it answers.
 */
export const TEST_SERVER_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

const TEST_DB_PREFIX = "tenantry_test_";

export type TestBackend = "postgres" | "embedded";

export interface TestDatabase {
  backend: TestBackend;
  /** Always a real, shareable database: an embedded one lives in a data directory, never in memory only. */
  target: Extract<DatabaseTarget, { kind: "postgres" }> | { kind: "embedded"; dataDir: string };
  /** Removes the database: drops it on PostgreSQL (closing its connections), deletes the data directory of PGlite. */
  drop(): Promise<void>;
}

let postgresAnswers: Promise<boolean> | undefined;

/** Whether the test PostgreSQL server accepts connections (asked once per process). */
export function postgresAvailable(): Promise<boolean> {
  postgresAnswers ??= withAdminClient(async (client) => {
    await client.query("select 1");
    return true;
  }).catch(() => false);
  return postgresAnswers;
}

/** The backend tests use unless they ask for one. */
export async function defaultTestBackend(): Promise<TestBackend> {
  const chosen = process.env.TENANTRY_TEST_BACKEND;
  if (chosen === "postgres" || chosen === "embedded") return chosen;
  return (await postgresAvailable()) ? "postgres" : "embedded";
}

/** Every backend available here: the embedded one always, PostgreSQL when it answers. */
export async function availableTestBackends(): Promise<TestBackend[]> {
  return (await postgresAvailable()) ? ["postgres", "embedded"] : ["embedded"];
}

export async function createTestDatabase(backend?: TestBackend): Promise<TestDatabase> {
  const chosen = backend ?? (await defaultTestBackend());
  if (chosen === "embedded") {
    // The PGlite cluster is created by the first `openDatabase` on the directory.
    const dataDir = mkdtempSync(join(tmpdir(), "tenantry-test-db-"));
    return {
      backend: chosen,
      target: { kind: "embedded", dataDir },
      async drop() {
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const name = `${TEST_DB_PREFIX}${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  await withAdminClient((client) => client.query(`create database "${name}"`));
  const url = new URL(TEST_SERVER_URL);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    backend: chosen,
    target: { kind: "postgres", url: url.toString() },
    async drop() {
      if (dropped) return;
      dropped = true;
      await withAdminClient((client) => client.query(`drop database if exists "${name}" with (force)`));
    },
  };
}

/** Runs `work` on a connection to the test server's own `postgres` database (creating, dropping, closing databases). */
export async function withAdminClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_SERVER_URL, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
