import { createHash } from "node:crypto";
import type { EntityManager } from "@mikro-orm/postgresql";

interface PooledClient {
  query(config: { name?: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

interface KnexClient {
  acquireConnection(): Promise<PooledClient>;
  releaseConnection(connection: PooledClient): Promise<void>;
}

/** The parts of MikroORM's connection used here (`executeQuery` logs the statement like every other). */
interface LoggingConnection {
  getKnex(): { client: KnexClient };
  logger: { isEnabled(namespace: "query"): boolean };
  executeQuery<T>(query: string, run: () => Promise<T>, context?: Record<string, unknown>): Promise<T>;
}

/** Each statement's `$n` text and stable name, by its `?` text (a few dozen statements, each used many times). */
const prepared = new Map<string, { name: string; text: string }>();

/**
 * Pools whose connections share one server session (the embedded PGlite
 * serves all of them from one): a named statement prepared on one would
 * collide on the next, so they run statements unnamed (still parameterized).
 */
const sharedSessionPools = new WeakSet<object>();

export function withoutNamedStatements(em: EntityManager): void {
  sharedSessionPools.add((em.getConnection() as unknown as LoggingConnection).getKnex().client);
}

/** `a = ? and b = ?` → `a = $1 and b = $2`, and a stable name for the statement. */
function prepare(sql: string): { name: string; text: string } {
  let statement = prepared.get(sql);
  if (!statement) {
    let index = 0;
    const text = sql.replace(/\?/g, () => `$${++index}`);
    statement = { name: `s${createHash("sha1").update(text).digest("hex").slice(0, 20)}`, text };
    prepared.set(sql, statement);
  }
  return statement;
}

/**
 * Runs a read as a named prepared statement on a pooled connection: the
 * server parses and plans it once per connection instead of on every call,
 * and the values travel as parameters. (MikroORM's `execute` inlines values
 * into the SQL text.) For reads outside transactions, on the hot paths.
 * Placeholders are `?`; the SQL must hold no other question mark.
 */
export async function selectRows<Row>(em: EntityManager, sql: string, values: readonly unknown[]): Promise<Row[]> {
  const { name, text } = prepare(sql);
  const connection = em.getConnection() as unknown as LoggingConnection;
  const client = connection.getKnex().client;
  const named = !sharedSessionPools.has(client);
  const run = async () => {
    const pooled = await client.acquireConnection();
    try {
      const statement = named ? { name, text, values: [...values] } : { text, values: [...values] };
      return (await pooled.query(statement)).rows as Row[];
    } finally {
      await client.releaseConnection(pooled);
    }
  };
  // Only a query observer (tests counting statements) turns query logging on; otherwise skip the wrapper.
  if (!connection.logger.isEnabled("query")) return run();
  return connection.executeQuery(text, run, { query: text, params: [...values] });
}

/** A timestamp column as the API writes it, `2026-11-29T10:00:00.000Z`, formatted by the database. */
export function isoTimestamp(column: string): string {
  return `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}
