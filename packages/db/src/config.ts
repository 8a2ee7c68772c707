import { DefaultLogger, type LogContext, type LoggerOptions } from "@mikro-orm/core";
import { defineConfig } from "@mikro-orm/postgresql";
import { entities } from "./entities/index.js";

export interface ConnectionOptions {
  /** A `postgres://` URL; its host may be a socket directory. */
  url: string;
  poolSize?: number;
  /** Receives every SQL statement the ORM sends (for logs and query budgets). */
  onQuery?: (sql: string) => void;
}

/**
 * The one MikroORM configuration, used by the server, the CLI and the tests.
 * The migrator is not among its extensions: `migratorOf` (database.ts) loads
 * it, with the migrations, when they are needed.
 */
export function ormConfig({ url, poolSize = 10, onQuery }: ConnectionOptions) {
  const parsed = new URL(url);
  return defineConfig({
    entities,
    // MikroORM ignores a socket directory given in the URL, so pass its parts.
    host: decodeURIComponent(parsed.hostname) || parsed.searchParams.get("host") || "127.0.0.1",
    port: parsed.port ? Number(parsed.port) : 5432,
    user: decodeURIComponent(parsed.username) || "postgres",
    password: decodeURIComponent(parsed.password) || undefined,
    dbName: decodeURIComponent(parsed.pathname.replace(/^\//, "")) || "postgres",
    pool: { min: 0, max: poolSize },
    forceUtcTimezone: true,
    allowGlobalContext: false,
    ensureDatabase: false,
    discovery: { warnWhenNoEntities: false },
    migrations: {
      tableName: "mikro_orm_migrations",
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      silent: true,
    },
    // Only the query observer turns query logging on: formatting costs time.
    debug: onQuery ? ["query"] : false,
    loggerFactory: (options) => new QueryObserver(options, onQuery),
    colors: false,
  });
}

/** Hands each SQL statement to `onQuery`; other ORM messages go to the default writer. */
class QueryObserver extends DefaultLogger {
  constructor(
    options: LoggerOptions,
    private readonly onQuery: ((sql: string) => void) | undefined,
  ) {
    super(options);
  }

  override logQuery(context: LogContext): void {
    if (this.onQuery && context.query) this.onQuery(context.query);
  }
}
