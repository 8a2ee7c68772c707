import type { EntityManager } from "@tenantry/db";
import type { Caller } from "../domain/caller.js";
import type { ServiceContext } from "../domain/context.js";
import { resolveCaller } from "../domain/sessions.js";
import type { AppServices } from "../services.js";

/** What a transport knows about one request. */
export interface RequestInfo {
  /** The session token from `Authorization` or the `session` cookie. */
  token: string | null;
  ip: string | null;
  userAgent: string | null;
}

/** What a call did to the session it was made in, for the transport to pass on (the `session` cookie). */
export type SessionChange = { kind: "started"; token: string; expiresAt: Date } | { kind: "ended" };

export interface Context {
  services: AppServices;
  /** This request's own fork: its identity map dies with the request. */
  em: EntityManager;
  request: RequestInfo;
  /** Resolves (once) who is calling; only procedures that need it ask. */
  resolveCaller(): Promise<Caller>;
  /** The caller if some procedure already resolved it, without resolving it. */
  resolvedCaller(): Promise<Caller> | undefined;
  /** Records that this request started (login) or ended (logout) a session. */
  recordSession(change: SessionChange): void;
  /** The session change this request made last, if any. */
  sessionChange(): SessionChange | undefined;
}

/** A transport's context resolves the caller from the token; a server-side caller (the CLI) says who it is (`known`). */
export function createContext(services: AppServices, request: RequestInfo, known?: Caller): Context {
  const em = services.orm.em.fork();
  let caller: Promise<Caller> | undefined = known && Promise.resolve(known);
  let change: SessionChange | undefined;
  // Closures, not fields: middlewares hand procedures copies of the context.
  return {
    services,
    em,
    request,
    resolveCaller() {
      caller ??= resolveCaller(em, request.token, services.clock.now());
      return caller;
    },
    resolvedCaller: () => caller,
    recordSession(next) {
      change = next;
    },
    sessionChange: () => change,
  };
}

/** The domain's view of a request: its fork, the clock, the mailbox and who acts from where. */
export function serviceContext(ctx: Context, caller: Caller): ServiceContext {
  return {
    em: ctx.em,
    clock: ctx.services.clock,
    mailbox: ctx.services.mailbox,
    audit: {
      actor:
        caller.kind === "anonymous"
          ? { type: "anonymous" }
          : caller.kind === "operator"
            ? { type: "cli" }
            : { type: "user", id: caller.user.id, email: caller.user.email },
      client: { ip: ctx.request.ip, userAgent: ctx.request.userAgent },
    },
  };
}

/** Reads `Authorization: Bearer <token>` (or DRF's `Token <token>`), else the `session` cookie. */
export function sessionToken(authorization: string | undefined, cookie: string | undefined): string | null {
  return headerToken(authorization) ?? (cookie ? cookie : null);
}

/**
 * The token of a Bearer or Token `Authorization` header ("" when it is
 * malformed); null for none or another scheme (Basic, Negotiate), which
 * leaves the cookie to authenticate.
 */
export function headerToken(authorization: string | undefined): string | null {
  if (!authorization) return null;
  const match = /^(?:Bearer|Token)\s+(\S+)\s*$/i.exec(authorization);
  if (match?.[1]) return match[1];
  return /^(?:Bearer|Token)\b/i.test(authorization) ? "" : null;
}
