import { InvalidEnvironment, loadEnv } from "./env.js";
import { createLogger } from "./logger.js";
import { startServer } from "./server.js";

const SHUTDOWN_TIMEOUT_MS = 10_000;

async function main(): Promise<void> {
  let env: ReturnType<typeof loadEnv>;
  try {
    env = loadEnv();
  } catch (error) {
    if (error instanceof InvalidEnvironment) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(env.logLevel);
  const startedAt = performance.now();
  const server = await startServer(env, logger);
  logger.info(
    { url: server.url, database: server.db.description, startMs: Math.round(performance.now() - startedAt) },
    `Tenantry is listening on ${server.url}`,
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      logger.error("shutdown took too long: exiting");
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    force.unref();
    server.close().then(
      () => {
        logger.info("stopped");
        logger.flush();
        process.exitCode = 0;
      },
      (error: unknown) => {
        logger.error({ err: error }, "error while shutting down");
        process.exitCode = 1;
      },
    );
  };
  process.on("SIGTERM", stop).on("SIGINT", stop);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Tenantry failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
