import { executionAsyncId } from "node:async_hooks";
import { TransactionContext } from "@mikro-orm/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, openDatabase } from "./database.js";
import { Tenant } from "./entities/index.js";
import { availableTestBackends, createTestDatabase, type TestDatabase } from "./testing.js";

/**
 * After an `await`, Node reports an async id only while promise hooks are on:
 * 0 means every promise is free of them (patches/README.md, @mikro-orm/core).
 */
async function promiseHooksOn(): Promise<boolean> {
  await null;
  return executionAsyncId() !== 0;
}

describe.each(await availableTestBackends())("MikroORM leaves Node's promise hooks off (%s)", (backend) => {
  let testDb: TestDatabase;
  let db: Database;
  let counter = 0;
  const slug = () => `hooks-${++counter}`;

  beforeAll(async () => {
    testDb = await createTestDatabase(backend);
    db = await openDatabase(testDb.target, { poolSize: 2 });
  });
  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });

  it("are off before any write (nothing else in the test process turned them on)", async () => {
    expect(await promiseHooksOn()).toBe(false);
  });

  it("are off again after a flush", async () => {
    const em = db.orm.em.fork();
    em.create(Tenant, { name: slug(), slug: slug() });
    await em.flush();
    expect(await promiseHooksOn()).toBe(false);
  });

  it("are off again after a transaction, whose context holds while it runs", async () => {
    const fork = db.orm.em.fork();
    await fork.transactional(async (em) => {
      expect(TransactionContext.getEntityManager()).toBe(em);
      await Promise.resolve();
      expect(TransactionContext.getEntityManager()).toBe(em);
      em.create(Tenant, { name: slug(), slug: slug() });
    });
    expect(TransactionContext.getEntityManager()).toBeUndefined();
    expect(await promiseHooksOn()).toBe(false);
  });

  // The embedded database serves one session: a second transaction waits for the first to end.
  it.skipIf(backend === "embedded")("keep a transaction's context while another transaction ends first", async () => {
    let releaseLong: () => void = () => {};
    const longHeld = new Promise<void>((resolve) => {
      releaseLong = resolve;
    });
    const long = db.orm.em.fork().transactional(async (em) => {
      await longHeld;
      // The short transaction has ended by now; this one's context must still be there.
      expect(TransactionContext.getEntityManager()).toBe(em);
      em.create(Tenant, { name: slug(), slug: slug() });
    });
    await db.orm.em.fork().transactional(async (em) => {
      em.create(Tenant, { name: slug(), slug: slug() });
    });
    releaseLong();
    await long;
    expect(await promiseHooksOn()).toBe(false);
  });

  it("a failed transaction also leaves them off", async () => {
    await expect(
      db.orm.em.fork().transactional(async () => {
        throw new Error("rolled back");
      }),
    ).rejects.toThrow("rolled back");
    expect(await promiseHooksOn()).toBe(false);
  });
});
