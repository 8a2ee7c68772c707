import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/** `apps/web/dist`, from `src/http` (tsx, vitest) and from `dist/http` (node) alike. */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL("../../../web/dist", import.meta.url));

/** The console's pages load only what the server itself serves. */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join("; ");

/** Paths the console never answers: the API, its docs and the probes keep their own 404s. */
const NOT_CONSOLE = /^\/(?:api|trpc|healthz|readyz)(?:[/?]|$)/;
/** Vite names built assets `name-<hash>.ext` under `assets/`: their content never changes. */
const HASHED = /^assets\/.+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
  ".map": "application/json; charset=utf-8",
};

interface StaticFile {
  body: Buffer;
  type: string;
  cacheControl: string;
}

/**
 * The web console (apps/web): its built files at their paths, and every other
 * GET of a page (a browser asking for HTML) answered with `index.html`, where
 * the console's router takes over. The files are read once, at start; without
 * a build the server serves the API alone and says so.
 */
export function registerConsole(app: FastifyInstance, dir: string = DEFAULT_CONSOLE_DIR): boolean {
  const index = join(dir, "index.html");
  if (!existsSync(index)) {
    app.log.warn({ dir }, "the web console is not built: serving the API only (build apps/web to serve it at /)");
    return false;
  }
  const files = new Map<string, StaticFile>();
  for (const path of filesUnder(dir)) {
    const name = relative(dir, path).split(sep).join("/");
    files.set(name, {
      body: readFileSync(path),
      type: TYPES[extname(name)] ?? "application/octet-stream",
      cacheControl: HASHED.test(name) ? "public, max-age=31536000, immutable" : "no-cache",
    });
  }
  const page = files.get("index.html") as StaticFile;
  for (const [name, file] of files) {
    if (name === "index.html") continue;
    app.get(`/${name}`, (_request, reply) => send(reply, file));
  }
  app.get("/", (_request, reply) => send(reply, page));
  app.setNotFoundHandler((request, reply) => {
    if (!isPageRequest(request)) return notFound(request, reply);
    return send(reply, page);
  });
  app.log.info({ dir, files: files.size }, "serving the web console at /");
  return true;
}

function send(reply: FastifyReply, file: StaticFile): FastifyReply {
  reply.header("content-type", file.type).header("cache-control", file.cacheControl);
  if (file.type.startsWith("text/html")) reply.header("content-security-policy", CONSOLE_CSP);
  return reply.send(file.body);
}

/** A browser navigating to one of the console's routes (not a script, an API call or a missing asset). */
function isPageRequest(request: FastifyRequest): boolean {
  if (request.method !== "GET" && request.method !== "HEAD") return false;
  if (NOT_CONSOLE.test(request.url) || request.url.startsWith("/assets/")) return false;
  return String(request.headers.accept ?? "").includes("text/html");
}

/** Fastify's own 404 answer, which the console's fallback replaces only for pages. */
function notFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.code(404).send({
    message: `Route ${request.method}:${request.url} not found`,
    error: "Not Found",
    statusCode: 404,
  });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}
