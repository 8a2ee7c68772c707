import { callTRPCProcedure, getErrorShape, getTRPCErrorFromUnknown, TRPCError } from "@trpc/server";
import { fastifyRequestHandler } from "@trpc/server/adapters/fastify";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AppServices } from "../services.js";
import type { Context } from "../trpc/context.js";
import { retryAfterOf } from "../trpc/errors.js";
import { appRouter } from "../trpc/router.js";
import { DRF } from "../wording.js";
import { refusesOrigin, requestContext } from "./session.js";

export interface TrpcOptions {
  services: AppServices;
  /** Origins besides the server's own that may send cookie-authenticated changes. */
  allowedOrigins: string[];
}

type Procedures = Record<string, { _def: { type: string } } | undefined>;
const procedures = appRouter._def.procedures as unknown as Procedures;

/**
 * Mounts the tRPC router at /trpc. Plain JSON queries (GET, batched or not),
 * the reads apps make most, are answered here directly: the procedures are
 * called as tRPC's own adapter calls them and the answer has its exact
 * shape, without the adapter's conversion of every request and response to
 * Fetch objects (a third of a list request's CPU). Everything else — POST,
 * streaming, subscriptions, malformed calls — goes to tRPC's adapter.
 */
export async function registerTrpc(app: FastifyInstance, { services, allowedOrigins }: TrpcOptions): Promise<void> {
  await app.register(async (trpc) => {
    // As tRPC's fastify plugin does: it parses bodies itself.
    trpc.removeContentTypeParser("application/json");
    trpc.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => done(null, body));
    // Refusals before the procedure is reached (a body too large, a content type tRPC does not read) keep tRPC's shape.
    trpc.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
      const status = error.statusCode ?? 500;
      if (status >= 500) {
        request.log.error({ err: error }, "tRPC request failed");
        return reply
          .code(500)
          .send({ error: frameworkErrorShape(request, "INTERNAL_SERVER_ERROR", "A server error occurred.") });
      }
      const code = FRAMEWORK_CODES[status] ?? "BAD_REQUEST";
      return reply.code(status).send({ error: frameworkErrorShape(request, code, error.message) });
    });
    const trpcOptions = {
      router: appRouter,
      createContext: ({ req }: { req: FastifyRequest }) => {
        // Every call of the request fails alike; the adapter answers each in tRPC's shape.
        if (refusesOrigin(req, allowedOrigins)) throw new TRPCError({ code: "FORBIDDEN", message: DRF.csrf });
        return requestContext(services, req);
      },
      responseMeta({ errors }: { errors: TRPCError[] }) {
        const retryAfter = retryAfterOf(errors);
        return retryAfter ? { headers: { "retry-after": retryAfter } } : {};
      },
      onError({ error, path, req }: { error: TRPCError; path?: string; req: FastifyRequest }) {
        if (error.code === "INTERNAL_SERVER_ERROR")
          req.log.error({ err: error.cause ?? error, path }, "procedure failed");
      },
    };
    trpc.all("/trpc/:path", async (request, reply) => {
      const path = (request.params as { path: string }).path;
      if (!(await answerQueries(services, request, reply, path))) {
        await fastifyRequestHandler({ ...trpcOptions, req: request, res: reply, path });
      }
      // Sent already: returning the reply keeps fastify from sending again while async onSend hooks run.
      return reply;
    });
  });
}

const FRAMEWORK_CODES: Record<number, TRPCError["code"]> = {
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
};

/** tRPC's error envelope for a refusal made before any procedure is called. */
export function frameworkErrorShape(request: FastifyRequest, code: TRPCError["code"], message: string) {
  const path = (request.params as { path?: string } | undefined)?.path;
  return getErrorShape({
    config: appRouter._def._config,
    error: new TRPCError({ code, message }),
    type: request.method === "GET" ? "query" : "mutation",
    path,
    input: undefined,
    ctx: undefined,
  });
}

let fastPathAnswers = 0;

/** How many calls the direct path has answered in this process (tests tell the two paths apart by it). */
export function fastPathAnswerCount(): number {
  return fastPathAnswers;
}

/** Answers a plain JSON query call; false when the call is not one (tRPC's adapter takes it). */
async function answerQueries(
  services: AppServices,
  request: FastifyRequest,
  reply: FastifyReply,
  rawPath: string,
): Promise<boolean> {
  if (request.method !== "GET" || request.headers["trpc-accept"]) return false;
  const query = request.query as Record<string, unknown>;
  const batch = query.batch === "1";
  if (Object.keys(query).some((key) => key !== "batch" && key !== "input")) return false;
  const paths = batch ? rawPath.split(",") : [rawPath];
  if (!paths.every((path) => procedures[path]?._def.type === "query")) return false;
  let inputs: unknown;
  try {
    inputs = typeof query.input === "string" ? JSON.parse(query.input) : undefined;
  } catch {
    return false;
  }
  const context: Context = requestContext(services, request);
  const config = appRouter._def._config;
  const answers = await Promise.all(
    paths.map(async (path, index) => {
      const input = batch ? (inputs as Record<string, unknown> | undefined)?.[index] : inputs;
      try {
        const data = await callTRPCProcedure({
          router: appRouter,
          path,
          getRawInput: async () => input,
          ctx: context,
          type: "query",
          signal: undefined,
          batchIndex: index,
        });
        return { status: 200, body: { result: { data } } };
      } catch (cause) {
        const error = getTRPCErrorFromUnknown(cause);
        if (error.code === "INTERNAL_SERVER_ERROR") {
          request.log.error({ err: error.cause ?? error, path }, "procedure failed");
        }
        const shape = getErrorShape({ config, error, type: "query", path, input, ctx: context });
        return { status: getHTTPStatusCodeFromError(error), body: { error: shape }, error };
      }
    }),
  );
  const statuses = new Set(answers.map((answer) => answer.status));
  const status = batch ? (statuses.size === 1 ? (answers[0]?.status ?? 200) : 207) : (answers[0]?.status ?? 200);
  const bodies = answers.map((answer) => answer.body);
  const retryAfter = retryAfterOf(
    answers.flatMap((answer) => ("error" in answer && answer.error ? [answer.error] : [])),
  );
  if (retryAfter) reply.header("retry-after", retryAfter);
  fastPathAnswers += 1;
  reply
    .code(status)
    .header("vary", "trpc-accept, accept")
    .header("content-type", "application/json")
    .send(Buffer.from(JSON.stringify(batch ? bodies : bodies[0])));
  return true;
}
