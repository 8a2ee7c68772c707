import type { FastifyInstance } from "fastify";
import { withTimeout } from "../timeout.js";

const READY_TIMEOUT_MS = 2000;

/** Liveness answers while the process runs; readiness asks the database. */
export function registerHealthRoutes(app: FastifyInstance, ping: () => Promise<void>): void {
  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (request, reply) => {
    try {
      await withTimeout(ping(), READY_TIMEOUT_MS, `no answer within ${READY_TIMEOUT_MS} ms`);
      return { status: "ready" };
    } catch (error) {
      request.log.warn({ err: error }, "readiness check failed: the database did not answer");
      return reply.code(503).send({ status: "unavailable", detail: "The database is not reachable." });
    }
  });
}
