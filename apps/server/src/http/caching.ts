import type { FastifyInstance, FastifyReply } from "fastify";

const API = /^\/(?:api|trpc)(?:[/?]|$)/;
/** The OpenAPI document and the docs page are the same for everyone. */
const PUBLIC_DOCS = /^\/api\/(?:openapi\.json|docs)(?:[/?]|$)/;
const CREDENTIALS = ["Authorization", "Cookie"];

/**
 * API answers carry tokens (login, invitations) or depend on who asks, so no
 * browser or shared cache may store them; tRPC's GET answers also say that
 * they vary by the credentials, for caches that ignore `no-store`.
 */
export function registerCaching(app: FastifyInstance): void {
  app.addHook("onSend", async (request, reply, payload) => {
    if (!API.test(request.url) || PUBLIC_DOCS.test(request.url)) return payload;
    reply.header("cache-control", "no-store");
    if (request.method === "GET" && request.url.startsWith("/trpc")) varyByCredentials(reply, payload);
    return payload;
  });
}

/** tRPC's adapter answers with a `Response` whose headers replace the reply's: merge into those. */
function varyByCredentials(reply: FastifyReply, payload: unknown): void {
  if (payload instanceof Response) payload.headers.set("vary", withCredentials(payload.headers.get("vary")));
  else reply.header("vary", withCredentials(reply.getHeader("vary")));
}

/** By the `vary` it extends: the answers set only a few distinct ones. */
const extendedVary = new Map<string, string>();

function withCredentials(vary: unknown): string {
  const given = String(vary ?? "");
  let extended = extendedVary.get(given);
  if (extended === undefined) {
    extended = addCredentials(given);
    if (extendedVary.size < 64) extendedVary.set(given, extended);
  }
  return extended;
}

function addCredentials(vary: string): string {
  const names = vary
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  const known = new Set(names.map((name) => name.toLowerCase()));
  return [...names, ...CREDENTIALS.filter((name) => !known.has(name.toLowerCase()))].join(", ");
}
