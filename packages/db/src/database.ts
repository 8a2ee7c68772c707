import { resolve } from "node:path";
import type { Migrator } from "@mikro-orm/migrations";
import { MikroORM } from "@mikro-orm/postgresql";
import pg from "pg";
import { ormConfig } from "./config.js";
import { EMBEDDED_POOL_SIZE, type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded.js";
import { loadMigrations, migrationsList } from "./migrations/index.js";
import { withoutNamedStatements } from "./statements.js";
import { type DatabaseTarget, describeTarget } from "./target.js";

export { type DatabaseTarget, describeTarget, resolveDatabaseTarget } from "./target.js";

export interface Database {
  orm: MikroORM;
  target: DatabaseTarget;
  /** Human-readable: which database this is, without credentials. */
  description: string;
  /** Resolves when the database answers a query. */
  ping(): Promise<void>;
  /** Applies pending migrations, one process at a time; returns the names applied. */
  migrate(): Promise<string[]>;
  /** MikroORM's migrator, with every migration (loaded on first use), for migrating step by step. */
  migrator(): Promise<Migrator>;
  /** Closes the pool, then the embedded server if there is one. Idempotent. */
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Default: the embedded server's connections (4 unless given), or 10 on PostgreSQL. */
  poolSize?: number;
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
  onQuery?: (sql: string) => void;
  /**
   * The embedded target's server, already started by the caller (a server
   * starts it before loading the rest of its code, so the two overlap). It
   * then belongs to the database: closed with it, or when opening fails.
   */
  embedded?: EmbeddedPostgres;
}

export async function openDatabase(target: DatabaseTarget, options: OpenDatabaseOptions = {}): Promise<Database> {
  return beginOpenDatabase(target, options).database;
}

export interface OpeningDatabase {
  /** The ORM, its entities discovered but not connected yet: services can be built on it meanwhile. */
  orm: MikroORM;
  /** The database, once it answers and is migrated. When that fails, everything opened is closed again. */
  database: Promise<Database>;
}

/**
 * Opens the database in two steps, so that a server can build itself while
 * the database starts: the ORM at once, and the database once it is
 * reachable and migrated. Throws at once when the embedded data directory is
 * in use.
 */
export function beginOpenDatabase(target: DatabaseTarget, options: OpenDatabaseOptions = {}): OpeningDatabase {
  let embedded = options.embedded;
  if (embedded && (target.kind !== "embedded" || embedded.dataDir !== (target.dataDir && resolve(target.dataDir)))) {
    void embedded.close().catch(() => {});
    throw new Error(`The embedded server given is not the one of ${describeTarget(target)}.`);
  }
  const poolSize =
    options.poolSize ?? embedded?.maxConnections ?? (target.kind === "embedded" ? EMBEDDED_POOL_SIZE : 10);
  if (target.kind === "embedded") {
    embedded ??= startEmbeddedPostgres({ dataDir: target.dataDir, maxConnections: poolSize });
  }
  const server = embedded;
  let orm: MikroORM;
  try {
    if (server && server.maxConnections < poolSize) {
      throw new Error(
        `The embedded server takes ${server.maxConnections} connections, fewer than the pool's ${poolSize}.`,
      );
    }
    const url = target.kind === "postgres" ? target.url : (server as EmbeddedPostgres).url;
    // Discovers the entities without connecting (no query before the database is up).
    orm = MikroORM.initSync(ormConfig({ url, poolSize, onQuery: options.onQuery }));
  } catch (error) {
    void server?.close().catch(() => {});
    throw error;
  }
  const opened = orm;
  const database = (async (): Promise<Database> => {
    try {
      await server?.ready;
      await opened.connect();
      if (server) withoutNamedStatements(opened.em);
      if (options.migrate ?? true) await migrateExclusively(opened, target);
    } catch (error) {
      await opened.close(true).catch(() => {});
      await server?.close().catch(() => {});
      throw error;
    }
    let closing: Promise<void> | undefined;
    return {
      orm: opened,
      target,
      description: describeTarget(target),
      async ping() {
        await opened.em.getConnection().execute("select 1");
      },
      migrate: () => migrateExclusively(opened, target),
      migrator: () => migratorOf(opened),
      close() {
        closing ??= (async () => {
          try {
            await opened.close(true);
          } finally {
            await server?.close();
          }
        })();
        return closing;
      },
    };
  })();
  return { orm: opened, database };
}

/** Any fixed number: the advisory lock every Tenantry process takes to migrate. */
const MIGRATION_LOCK = 7_297_113_001;

/**
 * Several server processes may start at once on one PostgreSQL: an advisory
 * lock, held on a connection of its own, lets one migrate while the others
 * wait and then find nothing left to do. The embedded database has one
 * process by construction. A database that is already up to date (every
 * start but the first after an upgrade) is recognised by one query, without
 * the lock or the migrator, whose own check lists every table through
 * `information_schema` (about 0.2 s on PGlite).
 */
async function migrateExclusively(orm: MikroORM, target: DatabaseTarget): Promise<string[]> {
  if (await upToDate(orm)) return [];
  const migrator = await migratorOf(orm);
  if (target.kind === "embedded") return (await migrator.up()).map((migration) => migration.name);
  const client = new pg.Client({ connectionString: target.url });
  await client.connect();
  try {
    await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK]);
    return (await migrator.up()).map((migration) => migration.name);
  } finally {
    await client.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => {});
    await client.end();
  }
}

const migrators = new WeakMap<MikroORM, Promise<Migrator>>();

/**
 * The ORM's migrator, made on first use: its package (with umzug and its
 * command line) and the migrations' code are loaded only then, as a start on
 * an up-to-date database needs neither.
 */
function migratorOf(orm: MikroORM): Promise<Migrator> {
  let migrator = migrators.get(orm);
  if (!migrator) {
    migrator = (async () => {
      const [{ Migrator }, migrations] = await Promise.all([import("@mikro-orm/migrations"), loadMigrations()]);
      orm.config.set("migrations", { ...orm.config.get("migrations"), migrationsList: migrations });
      return new Migrator(orm.em);
    })();
    migrators.set(orm, migrator);
    // A failed load is tried again next time.
    migrator.catch(() => migrators.delete(orm));
  }
  return migrator;
}

/**
 * Whether every known migration is recorded as applied, in the migrator's own
 * table (a migration is recorded in the transaction that applies it). Names
 * the database knows and this build does not (a newer build ran) are no
 * reason to migrate, as they are none to the migrator.
 */
async function upToDate(orm: MikroORM): Promise<boolean> {
  const { tableName } = orm.config.get("migrations");
  let rows: { name: string }[];
  try {
    // The migrator keeps its table in `public` unless a schema is configured; none is.
    rows = await orm.em.getConnection().execute<{ name: string }[]>(`select name from "public"."${tableName}"`);
  } catch (error) {
    // undefined_table: a database no migration has run on yet.
    if ((error as { code?: unknown }).code === "42P01") return false;
    throw error;
  }
  const applied = new Set(rows.map((row) => row.name));
  return migrationsList.every((migration) => applied.has(migration.name));
}
