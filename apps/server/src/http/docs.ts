import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";

/**
 * `/api/openapi.json` (the document the REST shim generates once at start),
 * and `/api/docs/`, Swagger UI served from its package (no CDN: works offline).
 */
export async function registerDocs(app: FastifyInstance, document: object): Promise<void> {
  app.get("/api/openapi.json", async () => document);
  await app.register(fastifySwagger, {
    mode: "static",
    specification: { document: document as never },
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: "/api/docs",
    staticCSP: true,
    uiConfig: { url: "/api/openapi.json", deepLinking: true, tryItOutEnabled: true },
  });
}
