import { type Database, type DatabaseTarget, openDatabase, resolveDatabaseTarget } from "@tenantry/db";
import type { FastifyInstance } from "fastify";
import { buildApp, type HttpTimeouts } from "./app.js";
import type { Env } from "./env.js";
import type { Logger } from "./logger.js";
import { createServices, type RunningServices, type ServiceOverrides } from "./services.js";

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
 */
export async function startServer(
  env: Env,
  logger: Logger,
  options: { target?: DatabaseTarget; overrides?: ServiceOverrides; timeouts?: Partial<HttpTimeouts> } = {},
): Promise<RunningServer> {
  const { target } = options;
  const startedAt = performance.now();
  const db = await openDatabase(target ?? resolveDatabaseTarget(env), { poolSize: env.databasePoolSize });
  logger.info(
    { database: db.description, ms: Math.round(performance.now() - startedAt) },
    "database open and migrated",
  );
  let app: FastifyInstance | undefined;
  let services: RunningServices | undefined;
  try {
    services = await createServices(env, db, logger, options.overrides);
    app = await buildApp({ env, db, logger, services: services.services, timeouts: options.timeouts });
    await app.listen({ port: env.port, host: env.host });
    services.start();
  } catch (error) {
    await app?.close().catch(() => {});
    await services?.stop().catch(() => {});
    await db.close().catch(() => {});
    throw error;
  }
  const running = services;
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : env.port;
  const host = env.host.includes(":") ? `[${env.host}]` : env.host;
  const listening = app;
  let closing: Promise<void> | undefined;
  return {
    app: listening,
    db,
    services: running,
    url: `http://${host}:${port}`,
    close() {
      closing ??= (async () => {
        try {
          await listening.close();
          await running.stop();
        } finally {
          await db.close();
        }
      })();
      return closing;
    },
  };
}
