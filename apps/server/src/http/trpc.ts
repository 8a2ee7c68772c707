import { type FastifyTRPCPluginOptions, fastifyTRPCPlugin } from "@trpc/server/adapters/fastify";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { type AppServices, createContext, sessionToken } from "../trpc/context.js";
import { type AppRouter, appRouter } from "../trpc/router.js";

export const SESSION_COOKIE = "session";

/** What the transports know of a request: its token, client address and agent. */
export function requestInfo(request: FastifyRequest) {
  return {
    token: sessionToken(request.headers.authorization, request.cookies?.[SESSION_COOKIE]),
    ip: request.ip ?? null,
    userAgent: request.headers["user-agent"] ?? null,
  };
}

/** Mounts the tRPC router at /trpc. */
export async function registerTrpc(app: FastifyInstance, services: AppServices): Promise<void> {
  await app.register(fastifyTRPCPlugin, {
    prefix: "/trpc",
    trpcOptions: {
      router: appRouter,
      createContext: ({ req }) => createContext(services, requestInfo(req)),
      onError({ error, path, req }) {
        if (error.code === "INTERNAL_SERVER_ERROR")
          req.log.error({ err: error.cause ?? error, path }, "procedure failed");
      },
    } satisfies FastifyTRPCPluginOptions<AppRouter>["trpcOptions"],
  });
}
