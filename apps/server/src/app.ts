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
import { SECURITY_HEADERS } from "./http/security-headers.js";
import { registerSessionCookie } from "./http/session.js";
import { frameworkErrorShape, registerTrpc } from "./http/trpc.js";
import type { Logger } from "./logger.js";
import { buildOpenApiDocument } from "./rest/openapi.js";
import { registerRest } from "./rest/plugin.js";
import type { AppServices } from "./services.js";
import { DRF } from "./wording.js";

export interface AppDependencies {
  env: Env;
  /** Asked by `/readyz` only: the app is built before the database answers. */
  db: Pick<Database, "ping">;
  logger: Logger;
  services: AppServices;
  /** The built web console; defaults to `apps/web/dist` (nothing is served at / when it is missing). */
  consoleDir?: string;
  /** Tests shorten these; production uses the defaults. */
  timeouts?: Partial<HttpTimeouts>;
}

/** How long the HTTP server waits on a client, in milliseconds. */
export interface HttpTimeouts {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  connectionTimeout: number;
  connectionsCheckingInterval: number;
}

/**
 * Every phase of a connection is bounded, so that clients that trickle or sit
 * idle (slowloris) cannot hold sockets for long while others are served:
 * - the headers must arrive within 10 s of the request's first byte (or of the
 *   connection, for a client that sends nothing);
 * - the whole request within 30 s: bodies are at most 64 KiB, which even a slow
 *   mobile link sends in a few seconds;
 * - an idle keep-alive connection is closed after 65 s, just longer than the
 *   usual proxy idle timeouts (nginx, AWS ALB: 60 s), so that a proxy never reuses
 *   a connection the server is closing at the same moment (a 502);
 * - a socket with no traffic either way for 90 s (a client that stops reading a
 *   large answer) is dropped; that is longer than the keep-alive wait, and than
 *   any request takes to handle;
 * - Node checks the headers and request timeouts every second (its default is
 *   every 30 s, which would let a trickling client stay up to 40 s).
 * A socket may carry any number of requests (`maxRequestsPerSocket` unset): the
 * throttle, not the connection, limits a client's rate.
 */
export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = {
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 65_000,
  connectionTimeout: 90_000,
  connectionsCheckingInterval: 1_000,
};

const VERSION = "0.1.0";
const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Builds the HTTP host around an open database. Listening is the caller's job. */
export async function buildApp({
  env,
  db,
  logger,
  services,
  consoleDir,
  timeouts,
}: AppDependencies): Promise<FastifyInstance> {
  const { headersTimeout, requestTimeout, keepAliveTimeout, connectionTimeout, connectionsCheckingInterval } = {
    ...DEFAULT_HTTP_TIMEOUTS,
    ...timeouts,
  };
  const app = Fastify({
    http: { headersTimeout, connectionsCheckingInterval },
    requestTimeout,
    keepAliveTimeout,
    connectionTimeout,
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
      (reply as FastifyReply)
        .code(notFound ? 404 : 400)
        .headers(SECURITY_HEADERS)
        .send(body);
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
    if (!error && !(request.log as Logger).isLevelEnabled("info")) return;
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
