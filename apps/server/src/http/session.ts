import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AppServices } from "../services.js";
import { type Context, createContext, headerToken, type RequestInfo, sessionToken } from "../trpc/context.js";

export const SESSION_COOKIE = "session";

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * What authenticates a request: a Bearer or Token header, else the `session`
 * cookie, else nothing. Other schemes (Basic, Negotiate: browsers add those by
 * themselves) leave the cookie to authenticate.
 */
export function credentialsOf(request: FastifyRequest): "header" | "cookie" | null {
  if (headerToken(request.headers.authorization) !== null) return "header";
  return request.cookies?.[SESSION_COOKIE] ? "cookie" : null;
}

/** What the transports know of a request: its token, client address and agent. */
export function requestInfo(request: FastifyRequest): RequestInfo {
  return {
    token: sessionToken(request.headers.authorization, request.cookies?.[SESSION_COOKIE]),
    ip: request.ip ?? null,
    userAgent: request.headers["user-agent"] ?? null,
  };
}

const contexts = new WeakMap<FastifyRequest, Context>();

/** The request's context, remembered so that the answer can carry the session cookie. */
export function requestContext(services: AppServices, request: FastifyRequest): Context {
  const context = createContext(services, requestInfo(request));
  contexts.set(request, context);
  return context;
}

/**
 * Cookies ride along on cross-site requests, so a change authenticated by the
 * cookie must come from our own origin (or an allowed one). Only callers whose
 * header authenticates them (Bearer, Token) are exempt: no browser sends those
 * by itself.
 */
export function refusesOrigin(request: FastifyRequest, allowedOrigins: string[]): boolean {
  if (!UNSAFE.has(request.method) || credentialsOf(request) !== "cookie") return false;
  const origin = request.headers.origin;
  if (!origin) return true;
  return origin !== `${request.protocol}://${request.host}` && !allowedOrigins.includes(origin);
}

/**
 * Every answer passes on what its request did to the session, whichever
 * transport answered: login sets the cookie, logout clears it, and a
 * cookie session whose expiry slid forward gets a cookie that lives as long.
 */
export function registerSessionCookie(app: FastifyInstance): void {
  app.addHook("onSend", async (request, reply, payload) => {
    const context = contexts.get(request);
    if (context) await passOnSession(context, request, reply);
    return payload;
  });
}

async function passOnSession(context: Context, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const change = context.sessionChange();
  if (change?.kind === "ended") reply.clearCookie(SESSION_COOKIE, { path: "/" });
  else if (change?.kind === "started") setSessionCookie(request, reply, change.token, change.expiresAt);
  else if (context.request.token && credentialsOf(request) === "cookie") {
    const caller = await context.resolvedCaller()?.catch(() => undefined);
    if (caller && "renewedUntil" in caller && caller.renewedUntil) {
      setSessionCookie(request, reply, context.request.token, caller.renewedUntil);
    }
  }
}

function setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string, expires: Date): void {
  reply.setCookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "lax",
    secure: request.protocol === "https",
    path: "/",
    expires,
  });
}
