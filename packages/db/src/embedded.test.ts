import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "./database.js";
import { Tenant } from "./entities/index.js";

describe("the embedded database", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "tenantry-embedded-test-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("keeps what was written across a restart", async () => {
    const first = await openDatabase({ kind: "embedded", dataDir });
    const em = first.orm.em.fork();
    em.create(Tenant, { name: "Persistent", slug: "persistent" });
    await em.flush();
    await first.close();
    expect(existsSync(join(dataDir, "tenantry.lock"))).toBe(false);

    const second = await openDatabase({ kind: "embedded", dataDir });
    try {
      const found = await second.orm.em.fork().findOne(Tenant, { slug: "persistent" });
      expect(found?.name).toBe("Persistent");
    } finally {
      await second.close();
    }
  });

  it("starts a new data directory from the initdb template, each copy a cluster of its own", async () => {
    const cache = join(import.meta.dirname, "..", "node_modules", ".cache", "tenantry-pglite");
    const dirs = [join(dataDir, "copy-a"), join(dataDir, "copy-b")];
    const a = await openDatabase({ kind: "embedded", dataDir: dirs[0] as string });
    try {
      const em = a.orm.em.fork();
      em.create(Tenant, { name: "Only in A", slug: "only-in-a" });
      await em.flush();
    } finally {
      await a.close();
    }
    expect(readdirSync(cache).filter((name) => name.startsWith("initdb-"))).toHaveLength(1);
    const b = await openDatabase({ kind: "embedded", dataDir: dirs[1] as string });
    try {
      expect(await b.orm.em.fork().count(Tenant, {})).toBe(0);
    } finally {
      await b.close();
    }
    expect(readdirSync(cache).filter((name) => name.startsWith("building-"))).toEqual([]);
  });

  it("refuses a second server on the same data directory", async () => {
    const first = await openDatabase({ kind: "embedded", dataDir });
    try {
      await expect(openDatabase({ kind: "embedded", dataDir })).rejects.toThrow(/is in use by process/);
    } finally {
      await first.close();
    }
  });

  it("removes its socket directory when closed", async () => {
    const before = readdirSync(tmpdir()).filter((name) => name.startsWith("tenantry-pg-"));
    const db = await openDatabase({ kind: "embedded", dataDir: null });
    await db.ping();
    await db.close();
    const after = readdirSync(tmpdir()).filter((name) => name.startsWith("tenantry-pg-"));
    expect(after.filter((name) => !before.includes(name))).toEqual([]);
  });
});
