import { createHash } from "node:crypto";
import type { EntityManager } from "@mikro-orm/postgresql";

interface PooledClient {
  query(config: { name?: string; text: string; values: unknown[] } | string): Promise<{ rows: unknown[] }>;
}

interface KnexClient {
  acquireConnection(): Promise<PooledClient>;
  releaseConnection(connection: PooledClient): Promise<void>;
}

/** The parts of MikroORM's connection used here (`executeQuery` logs the statement like every other). */
interface LoggingConnection {
  getKnex(): { client: KnexClient };
  getPlatform(): { formatQuery(sql: string, params: readonly unknown[]): string };
  logger: { isEnabled(namespace: "query"): boolean };
  executeQuery<T>(query: string, run: () => Promise<T>, context?: Record<string, unknown>): Promise<T>;
}

/** Each statement's `$n` text and stable name, by its `?` text (a few dozen statements, each used many times). */
const prepared = new Map<string, { name: string; text: string }>();

/**
 * Pools whose connections share one server session (the embedded PGlite
 * serves all of them from one): a named statement prepared on one would
 * collide on the next, so they run statements as simple queries (see runStatement).
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
export function selectRows<Row>(em: EntityManager, sql: string, values: readonly unknown[]): Promise<Row[]> {
  return runStatement<Row>(em, sql, values);
}

/**
 * Runs one statement, a read or a change, as `selectRows` does, and returns
 * its rows: inside `em`'s transaction when it has one (on the transaction's
 * connection), else on a pooled connection, where a change made by one
 * statement (`with … insert …`) is atomic by itself, without `begin` and
 * `commit` round trips.
 */
export async function runStatement<Row>(em: EntityManager, sql: string, values: readonly unknown[]): Promise<Row[]> {
  const { name, text } = prepare(sql);
  const connection = em.getConnection() as unknown as LoggingConnection;
  const pool = connection.getKnex().client;
  // The em's own transaction only. `getTransactionContext()` on the global em asks MikroORM's async
  // context, which a timer or a background pass started inside some transaction carries on after that
  // transaction ended: the statement would then run on a connection already back in the pool.
  const transaction = (em as unknown as { transactionContext?: { client: KnexClient } }).transactionContext;
  // The transaction's client always hands out the transaction's one connection, and never releases it.
  const client = transaction ? transaction.client : pool;
  const named = !sharedSessionPools.has(pool);
  const run = async () => {
    const pooled = await client.acquireConnection();
    try {
      if (named) return (await pooled.query({ name, text, values: [...values] })).rows as Row[];
      // One session serves every connection (embedded PGlite): the server runs each connection's messages
      // as they arrive, so the extended protocol's parse, bind and execute of one connection can be split
      // by another's, which replaces or drops the unnamed statement ("unnamed prepared statement does not
      // exist"). A simple query is one message: the values go in as literals, as MikroORM's `execute` does.
      return (await pooled.query(connection.getPlatform().formatQuery(sql, values))).rows as Row[];
    } finally {
      await client.releaseConnection(pooled);
    }
  };
  // Only a query observer (tests counting statements) turns query logging on; otherwise skip the wrapper.
  if (!connection.logger.isEnabled("query")) return run();
  return connection.executeQuery(text, run, { query: text, params: [...values] });
}

/**
 * Runs `work` in a transaction on one pooled connection: `begin`, the work,
 * then `commit`, or `rollback` when the work throws (and the error goes on).
 * The em `work` is given routes `runStatement` (and `selectRows`) to the
 * transaction's connection, and nothing else: the work is made only of those
 * statements (no unit of work, no `execute`). Lighter than MikroORM's
 * `em.transactional`, which also forks a unit of work and an async context.
 */
export async function transaction<T>(em: EntityManager, work: (em: EntityManager) => Promise<T>): Promise<T> {
  const connection = em.getConnection() as unknown as LoggingConnection;
  const pool = connection.getKnex().client;
  const logged = connection.logger.isEnabled("query");
  const pooled = await pool.acquireConnection();
  const control = async (command: "begin" | "commit" | "rollback") => {
    const run = () => pooled.query(command);
    await (logged ? connection.executeQuery(command, run, { query: command }) : run());
  };
  try {
    await control("begin");
    const tx = em.fork();
    const context: { client: KnexClient } = {
      client: { acquireConnection: async () => pooled, releaseConnection: async () => {} },
    };
    tx.setTransactionContext(context as unknown as Parameters<EntityManager["setTransactionContext"]>[0]);
    let result: T;
    try {
      result = await work(tx);
    } catch (error) {
      await control("rollback").catch(() => {});
      throw error;
    }
    await control("commit");
    return result;
  } finally {
    await pool.releaseConnection(pooled);
  }
}

/** A timestamp column as the API writes it, `2026-11-29T10:00:00.000Z`, formatted by the database. */
export function isoTimestamp(column: string): string {
  return `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/** A statement, or a part of one, with its `?` placeholders' values in order. */
export interface Statement {
  sql: string;
  params: unknown[];
}

/**
 * `with a as (…), b as (…) <last>`: several changes as one statement, so one
 * round trip, and all or nothing without a transaction around them. The
 * parts see the database as it was when the statement began (not one
 * another's changes); a part that reads another's `returning` rows runs after it.
 */
export function withParts(parts: [name: string, part: Statement][], last: Statement): Statement {
  return {
    sql: `with ${parts.map(([name, part]) => `${name} as (${part.sql})`).join(",\n")}\n${last.sql}`,
    params: [...parts.flatMap(([, part]) => part.params), ...last.params],
  };
}
