import type { Database, DatabaseTarget } from "@tenantry/db";
import { EMBEDDED_POOL_SIZE, startEmbeddedPostgres } from "@tenantry/db/embedded";
import { resolveDatabaseTarget } from "@tenantry/db/target";
import type { FastifyInstance } from "fastify";
import type { HttpTimeouts } from "./app.js";
import type { Env } from "./env.js";
import type { Logger } from "./logger.js";
import type { RunningServices, ServiceOverrides } from "./services.js";

/**
 * The background delivery passes begin this long after the server listens:
 * the first requests (and the readiness probe) then do not queue behind them
 * on the embedded database, which runs one statement at a time, cold. What is
 * notified meanwhile (an invitation sent) goes out at once, as always.
 */
const FIRST_DELIVERY_PASS_AFTER_MS = 1000;

export interface RunningServer {
  app: FastifyInstance;
  db: Database;
  services: RunningServices;
  /** The address it listens on, e.g. `http://127.0.0.1:3000`. */
  url: string;
  /** Stops taking requests, lets the ones in flight finish, then closes the database. */
  close(): Promise<void>;
}

/**
 * Opens (and migrates) the database, builds the app and listens. The database
 * is the one the environment names unless `target` is given (tests); tests may
 * also shorten the HTTP timeouts.
 *
 * The two overlap: the embedded database is started first, in a thread of
 * its own, and boots while the rest of the server is loaded (this module
 * loads it only then) and built; building queries nothing. The server
 * listens only once the database answers and is migrated, so `/readyz` never
 * answers before it is.
 */
export async function startServer(
  env: Env,
  logger: Logger,
  options: { target?: DatabaseTarget; overrides?: ServiceOverrides; timeouts?: Partial<HttpTimeouts> } = {},
): Promise<RunningServer> {
  const target = options.target ?? resolveDatabaseTarget(env);
  const startedAt = performance.now();
  const embedded =
    target.kind === "embedded"
      ? startEmbeddedPostgres({ dataDir: target.dataDir, maxConnections: env.databasePoolSize ?? EMBEDDED_POOL_SIZE })
      : undefined;
  let modules: [typeof import("@tenantry/db"), typeof import("./services.js"), typeof import("./app.js")];
  try {
    modules = await Promise.all([import("@tenantry/db"), import("./services.js"), import("./app.js")]);
  } catch (error) {
    await embedded?.close().catch(() => {});
    throw error;
  }
  const [{ beginOpenDatabase }, { createServices }, { buildApp }] = modules;
  const opening = beginOpenDatabase(target, { poolSize: env.databasePoolSize, embedded });
  const opened = opening.database.then((db) => {
    logger.info(
      { database: db.description, ms: Math.round(performance.now() - startedAt) },
      "database open and migrated",
    );
    return db;
  });
  const built = (async () => {
    const services = await createServices(env, opening, logger, options.overrides);
    try {
      const app = await buildApp({
        env,
        db: { ping: async () => (await opening.database).ping() },
        logger,
        services: services.services,
        timeouts: options.timeouts,
      });
      return { services, app };
    } catch (error) {
      await services.stop().catch(() => {});
      throw error;
    }
  })();
  const [database, build] = await Promise.allSettled([opened, built]);
  if (database.status === "rejected" || build.status === "rejected") {
    if (build.status === "fulfilled") {
      await build.value.app.close().catch(() => {});
      await build.value.services.stop().catch(() => {});
    }
    if (database.status === "fulfilled") await database.value.close().catch(() => {});
    // The database's failure first: it is the likelier cause of the other.
    throw database.status === "rejected" ? database.reason : (build as PromiseRejectedResult).reason;
  }
  const db = database.value;
  const { app, services } = build.value;
  try {
    await app.listen({ port: env.port, host: env.host });
    services.start({ firstPassAfterMs: FIRST_DELIVERY_PASS_AFTER_MS });
  } catch (error) {
    await app.close().catch(() => {});
    await services.stop().catch(() => {});
    await db.close().catch(() => {});
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : env.port;
  const host = env.host.includes(":") ? `[${env.host}]` : env.host;
  let closing: Promise<void> | undefined;
  return {
    app,
    db,
    services,
    url: `http://${host}:${port}`,
    close() {
      closing ??= (async () => {
        try {
          await app.close();
          await services.stop();
        } finally {
          await db.close();
        }
      })();
      return closing;
    },
  };
}
