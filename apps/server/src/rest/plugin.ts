import { callTRPCProcedure } from "@trpc/server";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { type CursorPage, DEFAULT_CURSOR_PAGE_SIZE, MAX_PAGE_SIZE } from "../domain/paging.js";
import { refusesOrigin, requestContext } from "../http/session.js";
import type { AppServices } from "../services.js";
import { appRouter } from "../trpc/router.js";
import { DRF } from "../wording.js";
import { sendProcedureError } from "./errors.js";
import { fieldName, toWire, wireName } from "./names.js";
import { REST_ROUTES, type RestRoute } from "./routes.js";

export interface RestOptions {
  services: AppServices;
  /** Origins besides the server's own that may send cookie-authenticated changes. */
  allowedOrigins: string[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SLUG_OR_UUID = /^[0-9a-z-]{1,100}$/i;
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

class JsonParseError extends Error {}

const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { type: "query" | "mutation" } }>;

/** Whether a procedure is a query or a mutation: a REST method may call either (a POST that only reads). */
function procedureType(path: string): "query" | "mutation" {
  const procedure = procedures[path];
  if (!procedure) throw new Error(`REST route calls an unknown procedure: ${path}`);
  return procedure._def.type;
}

/**
 * The old backend's REST API at its documented paths, as a thin table over
 * the tRPC procedures (a server-side caller per request): it renames fields
 * between snake_case and camelCase, moves path and query parameters into the
 * input, picks the status code, and answers errors in DRF's shapes. No rule
 * lives here; transport concerns do (cookies, CSRF, redirects, parsing).
 */
export async function registerRest(app: FastifyInstance, options: RestOptions): Promise<void> {
  await app.register(
    async (api) => {
      // JSON only: anything else is 415, malformed JSON is DRF's parse error.
      api.removeAllContentTypeParsers();
      api.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => {
        if (body === "") return done(null, undefined);
        try {
          done(null, JSON.parse(body as string));
        } catch (error) {
          done(new JsonParseError((error as Error).message));
        }
      });
      api.setErrorHandler((error, request, reply) => transportError(error as TransportError, request, reply));
      api.setNotFoundHandler((_request, reply) => reply.code(404).send({ detail: DRF.notFound }));

      const byPath = new Map<string, RestRoute[]>();
      for (const route of REST_ROUTES) byPath.set(route.path, [...(byPath.get(route.path) ?? []), route]);
      for (const [path, routes] of byPath) {
        const url = path.replace(/^\/api/, "").replace("{id}", ":id");
        const allowed = routes.map((route) => route.method);
        const allow = [...allowed, ...(allowed.includes("GET") ? ["HEAD"] : []), "OPTIONS"].join(", ");
        for (const route of routes) {
          for (const path of [route.procedure, route.pageProcedure, route.cursorProcedure])
            if (path) procedureType(path);
          api.route({ method: route.method, url, handler: (request, reply) => handle(options, route, request, reply) });
        }
        const others = METHODS.filter((method) => !(allowed as string[]).includes(method));
        if (others.length) {
          api.route({
            method: others,
            url,
            handler: (request, reply) =>
              reply
                .code(405)
                .header("allow", allow)
                .send({ detail: DRF.methodNotAllowed(request.method) }),
          });
        }
        api.route({
          method: "OPTIONS",
          url,
          handler: (_request, reply) =>
            reply.header("allow", allow).send({ name: path, renders: ["application/json"] }),
        });
        // The documented paths end with a slash; the bare path redirects there, keeping method and body.
        api.route({
          method: [...METHODS, "OPTIONS"],
          url: url.replace(/\/$/, ""),
          handler: (request, reply) => {
            const [pathname, query] = splitUrl(request.url);
            const location = `${pathname}/${query}`;
            return reply
              .code(308)
              .header("location", location)
              .send({ detail: `Moved to ${location}.` });
          },
        });
      }
    },
    { prefix: "/api" },
  );
}

async function handle(options: RestOptions, route: RestRoute, request: FastifyRequest, reply: FastifyReply) {
  if (refusesOrigin(request, options.allowedOrigins)) {
    return reply.code(403).send({ detail: DRF.csrf });
  }
  const id = (request.params as { id?: string }).id;
  // A path that cannot name an object names none: 404, as Django's URL patterns answer.
  const idPattern = route.id === "uuid" ? UUID : SLUG_OR_UUID;
  if (route.id && !(id && idPattern.test(id))) return reply.code(404).send({ detail: DRF.notFound });

  // One context per request: the caller is resolved once, whatever the route calls.
  const context = requestContext(options.services, request);
  const cursor = route.cursorProcedure ? cursorWindow(request.query) : undefined;
  const page = route.pageProcedure && !cursor ? pageWindow(request.query) : undefined;
  const { input, aliases } = routeInput(route, request, id);
  const path = cursor ? (route.cursorProcedure as string) : page ? (route.pageProcedure as string) : route.procedure;
  const window = cursor ?? page;
  try {
    // As a server-side caller calls it, without building the caller's proxies on every request.
    const output = await callTRPCProcedure({
      router: appRouter,
      path,
      getRawInput: async () => (window ? { ...(input as object), ...window } : input),
      ctx: context,
      type: procedureType(path),
      signal: undefined,
      batchIndex: 0,
    });
    if (route.status === 204) return reply.code(204).send();
    if (cursor) return reply.send(cursorEnvelope(request, output as CursorPage<unknown>));
    if (page) return reply.send(envelope(request, page, output as { count: number; results: unknown[] }));
    return reply.code(route.status).send(toWire(output));
  } catch (error) {
    // Name fields as the caller did, aliases included.
    return sendProcedureError(reply, error, (field) => aliases[wireName(field)] ?? wireName(field));
  }
}

/**
 * The procedure's input from the path, the query string and the whitelisted
 * body fields, and which aliases the body used (wire name → alias sent).
 */
function routeInput(
  route: RestRoute,
  request: FastifyRequest,
  id: string | undefined,
): { input: unknown; aliases: Record<string, string> } {
  const input: Record<string, unknown> = {};
  const aliases: Record<string, string> = {};
  if (route.id) input.id = id;
  const query = request.query as Record<string, string | string[] | undefined>;
  for (const name of route.query ?? []) {
    const value = lastValue(query[name]);
    // An empty filter is no filter, as django-filter has it.
    if (value !== undefined && value !== "") input[fieldName(name)] = value;
  }
  if (route.body && request.body !== undefined) {
    const body = request.body;
    // Not an object: let the procedure's validation say so, in its words.
    if (body === null || typeof body !== "object" || Array.isArray(body)) return { input: body, aliases };
    const fields = body as Record<string, unknown>;
    for (const name of route.body) if (Object.hasOwn(fields, name)) input[fieldName(name)] = fields[name];
    for (const [alias, name] of Object.entries(route.bodyAliases ?? {})) {
      if (!Object.hasOwn(fields, name) && Object.hasOwn(fields, alias)) {
        input[fieldName(name)] = fields[alias];
        aliases[name] = alias;
      }
    }
  }
  return { input, aliases };
}

/** DRF's LimitOffsetPagination: paged only when `limit` is a positive integer; `offset` defaults to 0. */
function pageWindow(query: unknown): { limit: number; offset: number } | undefined {
  const params = query as Record<string, string | string[] | undefined>;
  const limit = wholeNumber(lastValue(params.limit));
  if (!limit) return undefined;
  return { limit: Math.min(limit, MAX_PAGE_SIZE), offset: wholeNumber(lastValue(params.offset)) ?? 0 };
}

/**
 * DRF's CursorPagination: `?cursor=` (empty: the first page) pages by
 * cursor, `?limit=` sets the page size (else DRF's default; an invalid one
 * counts as absent, as DRF has it).
 */
function cursorWindow(query: unknown): { cursor: string; limit: number } | undefined {
  const params = query as Record<string, string | string[] | undefined>;
  const cursor = lastValue(params.cursor);
  if (cursor === undefined) return undefined;
  const limit = wholeNumber(lastValue(params.limit));
  return { cursor, limit: limit ? Math.min(limit, MAX_PAGE_SIZE) : DEFAULT_CURSOR_PAGE_SIZE };
}

/** `next` and `previous` as absolute links: this request's URL with the cursor replaced, as DRF builds them. */
function cursorEnvelope(request: FastifyRequest, page: CursorPage<unknown>) {
  const url = new URL(request.url, `${request.protocol}://${request.host}`);
  const link = (cursor: string | null) => {
    if (cursor === null) return null;
    const target = new URL(url);
    target.searchParams.set("cursor", cursor);
    return target.toString();
  };
  return { next: link(page.next), previous: link(page.previous), results: toWire(page.results) };
}

function envelope(
  request: FastifyRequest,
  { limit, offset }: { limit: number; offset: number },
  page: { count: number; results: unknown[] },
) {
  const url = new URL(request.url, `${request.protocol}://${request.host}`);
  const link = (newOffset: number | null) => {
    const target = new URL(url);
    target.searchParams.set("limit", String(limit));
    if (newOffset === null) target.searchParams.delete("offset");
    else target.searchParams.set("offset", String(newOffset));
    return target.toString();
  };
  return {
    count: page.count,
    next: offset + limit < page.count ? link(offset + limit) : null,
    previous: offset <= 0 ? null : offset - limit <= 0 ? link(null) : link(offset - limit),
    results: toWire(page.results),
  };
}

/** Failures before a procedure runs: parsing, sizes, media types. */
type TransportError = Error & { code?: string; statusCode?: number };

function transportError(error: TransportError, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof JsonParseError) return reply.code(400).send({ detail: DRF.parseError(error.message) });
  switch (error.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return reply.code(413).send({ detail: DRF.tooLarge });
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return reply
        .code(415)
        .send({ detail: DRF.unsupportedMediaType(String(request.headers["content-type"] ?? "").split(";")[0] ?? "") });
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return reply.code(error.statusCode).send({ detail: error.message });
  }
  request.log.error({ err: error }, "request failed");
  return reply.code(500).send({ detail: DRF.serverError });
}

function lastValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.at(-1) : value;
}

function wholeNumber(value: string | undefined): number | undefined {
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

function splitUrl(url: string): [string, string] {
  const at = url.indexOf("?");
  return at < 0 ? [url, ""] : [url.slice(0, at), url.slice(at)];
}
