import { randomUUID } from "node:crypto";
import fastifyCookie from "@fastify/cookie";
import fastifyHelmet from "@fastify/helmet";
import type { Database } from "@tenantry/db";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from "fastify";
import type { Env } from "./env.js";
import { registerCaching } from "./http/caching.js";
import { answerClientError } from "./http/client-errors.js";
import { registerConsole } from "./http/console.js";
import { registerDocs } from "./http/docs.js";
import { registerHealthRoutes } from "./http/health.js";
import { registerSessionCookie } from "./http/session.js";
import { frameworkErrorShape, registerTrpc } from "./http/trpc.js";
import type { Logger } from "./logger.js";
import { buildOpenApiDocument } from "./rest/openapi.js";
import { registerRest } from "./rest/plugin.js";
import type { AppServices } from "./services.js";
import { DRF } from "./wording.js";

export interface AppDependencies {
  env: Env;
  db: Database;
  logger: Logger;
  services: AppServices;
  /** The built web console; defaults to `apps/web/dist` (nothing is served at / when it is missing). */
  consoleDir?: string;
}

const VERSION = "0.1.0";
const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Builds the HTTP host around an open database. Listening is the caller's job. */
export async function buildApp({ env, db, logger, services, consoleDir }: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new OneLinePerRequest({ requestIdLogLabel: "requestId" }),
    // genReqId reads x-request-id itself, so a malformed one is replaced rather than echoed.
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
    bodyLimit: 64 * 1024,
    // tRPC's `/trpc/:path` holds a whole batch's joined procedure names; the SDK keeps within this.
    // A longer segment is answered 404 (below), not 414.
    routerOptions: { maxParamLength: 2048 },
    // Malformed URLs are answered in the API's shape, not fastify's.
    frameworkErrors: (error, request, reply) => {
      const notFound = error.code === "FST_ERR_BAD_URL" || error.code === "FST_ERR_MAX_PARAM_LENGTH";
      const body = request.url.startsWith("/api/")
        ? { detail: notFound ? DRF.notFound : error.message }
        : request.url.startsWith("/trpc/")
          ? {
              error: frameworkErrorShape(
                request,
                notFound ? "NOT_FOUND" : "BAD_REQUEST",
                notFound ? DRF.notFound : error.message,
              ),
            }
          : { error: error.message };
      (reply as FastifyReply).code(notFound ? 404 : 400).send(body);
    },
    // A hop count trusts that many proxies nearest the server.
    trustProxy: typeof env.trustProxy === "number" ? trustHops(env.trustProxy) : env.trustProxy,
    // Refused by Node's HTTP parser before routing: still answered in the API's error shapes.
    clientErrorHandler: answerClientError,
    return503OnClosing: true,
    forceCloseConnections: "idle",
  });

  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });

  await app.register(fastifyHelmet, {
    // An API answers JSON; the one HTML page (the docs) brings its own policy.
    contentSecurityPolicy: false,
    crossOriginEmbedderPolicy: false,
  });
  await app.register(fastifyCookie);
  registerSessionCookie(app);
  registerCaching(app);
  registerHealthRoutes(app, () => db.ping());
  await registerTrpc(app, { services, allowedOrigins: env.allowedOrigins });
  await registerRest(app, { services, allowedOrigins: env.allowedOrigins });
  await registerDocs(app, buildOpenApiDocument(VERSION));
  registerConsole(app, consoleDir);
  return app;
}

/** One log line per request, written when it completes (fastify's default writes two). */
class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = {
      method: request.method,
      url: request.url,
      statusCode: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 100) / 100,
    };
    if (error) request.log.error({ ...line, err: error }, "request failed");
    else request.log.info(line, "request");
  }
}

function trustHops(hops: number) {
  return (_address: string, hop: number) => hop < hops;
}
