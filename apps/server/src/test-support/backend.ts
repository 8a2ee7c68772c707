import { defaultTestBackend } from "@tenantry/db/testing";
import { it } from "vitest";

/** The database this run's tests use: `TENANTRY_TEST_BACKEND`, else PostgreSQL when it answers. */
export const testBackend = await defaultTestBackend();

/**
 * `it` for a test only PostgreSQL can run (PGlite is one process per data
 * directory: nothing can open its database a second time). On the embedded
 * database the test is skipped with `reason` in its name, and `npm test` lists
 * it: `itOnPostgres(reason)("title", async () => { ... })`.
 */
export function itOnPostgres(reason: string) {
  const embedded = testBackend === "embedded";
  return (title: string, test: () => Promise<void>, timeout?: number): void => {
    it.skipIf(embedded)(embedded ? `${title} [needs PostgreSQL: ${reason}]` : title, test, timeout);
  };
}

/** `it` for a test that opens its database a second time, in a pool of its own (as another process would). */
export const itTwoPools = itOnPostgres("a second pool would open the data directory a second time");
