import { MikroORM } from "@mikro-orm/postgresql";
import pg from "pg";
import { ormConfig } from "./config.js";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded.js";
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
 * process by construction.
 */
async function migrateExclusively(orm: MikroORM, target: DatabaseTarget): Promise<string[]> {
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

export function describeTarget(target: DatabaseTarget): string {
  if (target.kind === "embedded") {
    return target.dataDir === null ? "embedded PGlite (in memory)" : `embedded PGlite in ${target.dataDir}`;
  }
  const url = new URL(target.url);
  url.password = "";
  return `PostgreSQL at ${url.host}${url.pathname}`;
}
