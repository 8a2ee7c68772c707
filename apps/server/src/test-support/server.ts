import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { createTestDatabase, type TestBackend, type TestDatabase } from "@tenantry/db/testing";
import type { HttpTimeouts } from "../app.js";
import { type Env, loadEnv } from "../env.js";
import { createLogger } from "../logger.js";
import { type RunningServer, startServer } from "../server.js";
import type { ServiceOverrides } from "../services.js";

export interface TestServer extends RunningServer {
  testDb: TestDatabase;
  /** Closes the server and drops its database. */
  stop(): Promise<void>;
  /**
   * Takes the database away under the running server: PostgreSQL drops it
   * (ending its connections); the embedded PGlite, which lives inside the
   * server process, is closed under the server.
   */
  loseDatabase(): Promise<void>;
}

/** A real server on a fresh database, listening on a free loopback port. */
export async function startTestServer(
  options: {
    backend?: TestBackend;
    env?: Record<string, string>;
    overrides?: ServiceOverrides;
    timeouts?: Partial<HttpTimeouts>;
    /** Collects every log line the server writes (at LOG_LEVEL, default silent). */
    logLines?: string[];
  } = {},
): Promise<TestServer> {
  const testDb = await createTestDatabase(options.backend);
  const env: Env = loadEnv({
    NODE_ENV: "test",
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: process.env.LOG_LEVEL ?? "silent",
    ...options.env,
  });
  const { logLines } = options;
  const destination = logLines
    ? new Writable({
        write(chunk, _encoding, done) {
          logLines.push(...chunk.toString().split("\n").filter(Boolean));
          done();
        },
      })
    : undefined;
  const logger = createLogger(env.logLevel, destination as Parameters<typeof createLogger>[1]);
  const server = await startServer(env, logger, {
    target: testDb.target,
    overrides: { key: randomBytes(32), ...options.overrides },
    timeouts: options.timeouts,
  });
  return {
    ...server,
    testDb,
    async stop() {
      await server.close();
      await testDb.drop();
    },
    async loseDatabase() {
      if (testDb.backend === "embedded") await server.db.close();
      else await testDb.drop();
    },
  };
}
