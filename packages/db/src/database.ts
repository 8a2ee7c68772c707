import { MikroORM } from "@mikro-orm/postgresql";
import pg from "pg";
import { ormConfig } from "./config.js";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded.js";
import { migrationsList } from "./migrations/index.js";
import { withoutNamedStatements } from "./statements.js";

/** Where the data lives: a PostgreSQL server, or the embedded PGlite. */
export type DatabaseTarget = { kind: "postgres"; url: string } | { kind: "embedded"; dataDir: string | null };

export interface Database {
  orm: MikroORM;
  target: DatabaseTarget;
  /** Human-readable: which database this is, without credentials. */
  description: string;
  /** Resolves when the database answers a query. */
  ping(): Promise<void>;
  /** Applies pending migrations, one process at a time; returns the names applied. */
  migrate(): Promise<string[]>;
  /** Closes the pool, then the embedded server if there is one. Idempotent. */
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  poolSize?: number;
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
  onQuery?: (sql: string) => void;
}

/** `DATABASE_URL` set means PostgreSQL; unset means PGlite in `DATA_DIR`. */
export function resolveDatabaseTarget(env: { databaseUrl?: string; dataDir: string }): DatabaseTarget {
  return env.databaseUrl ? { kind: "postgres", url: env.databaseUrl } : { kind: "embedded", dataDir: env.dataDir };
}

export async function openDatabase(target: DatabaseTarget, options: OpenDatabaseOptions = {}): Promise<Database> {
  const poolSize = options.poolSize ?? (target.kind === "embedded" ? 4 : 10);
  let embedded: EmbeddedPostgres | undefined;
  if (target.kind === "embedded") {
    embedded = await startEmbeddedPostgres({ dataDir: target.dataDir, maxConnections: poolSize });
  }
  const url = target.kind === "postgres" ? target.url : (embedded as EmbeddedPostgres).url;
  let orm: MikroORM | undefined;
  try {
    orm = await MikroORM.init(ormConfig({ url, poolSize, onQuery: options.onQuery }));
    if (embedded) withoutNamedStatements(orm.em);
    if (options.migrate ?? true) await migrateExclusively(orm, target);
  } catch (error) {
    await orm?.close(true).catch(() => {});
    await embedded?.close().catch(() => {});
    throw error;
  }
  const opened = orm;
  let closing: Promise<void> | undefined;
  return {
    orm: opened,
    target,
    description: describeTarget(target),
    async ping() {
      await opened.em.getConnection().execute("select 1");
    },
    migrate: () => migrateExclusively(opened, target),
    close() {
      closing ??= (async () => {
        try {
          await opened.close(true);
        } finally {
          await embedded?.close();
        }
      })();
      return closing;
    },
  };
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
  if (target.kind === "embedded") return (await orm.getMigrator().up()).map((migration) => migration.name);
  const client = new pg.Client({ connectionString: target.url });
  await client.connect();
  try {
    await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK]);
    return (await orm.getMigrator().up()).map((migration) => migration.name);
  } finally {
    await client.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => {});
    await client.end();
  }
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

export function describeTarget(target: DatabaseTarget): string {
  if (target.kind === "embedded") {
    return target.dataDir === null ? "embedded PGlite (in memory)" : `embedded PGlite in ${target.dataDir}`;
  }
  const url = new URL(target.url);
  url.password = "";
  return `PostgreSQL at ${url.host}${url.pathname}`;
}
