import type { TenantryFetch, TenantryFetchInit } from "../../src/index.js";

/** One HTTP request the client made, decoded. */
export interface SeenRequest {
  url: string;
  method: string;
  /** The procedures in the request (one unless batched). */
  paths: string[];
  /** Each procedure's input, in order. */
  inputs: unknown[];
  headers: Record<string, string>;
  signal?: AbortSignal;
}

/** What the fake server answers: a status and a body (JSON unless a string), or a thrown network error. */
export type Reply = { status: number; body: unknown; contentType?: string } | { networkError: Error };

/**
 * The transport seam: a `fetch` that decodes tRPC's HTTP requests and answers
 * them from `handler`, recording every request.
 */
export function fakeFetch(handler: (request: SeenRequest, index: number) => Reply | Promise<Reply>) {
  const requests: SeenRequest[] = [];
  const fetch: TenantryFetch = async (url: string, init: TenantryFetchInit) => {
    const parsed = new URL(url);
    const paths = decodeURIComponent(parsed.pathname.replace(/^.*\/trpc\//, "")).split(",");
    const batched = parsed.searchParams.get("batch") === "1";
    const raw = init.method === "GET" ? parsed.searchParams.get("input") : (init.body ?? null);
    const decoded: unknown = raw === null ? undefined : JSON.parse(raw);
    const inputs = batched
      ? paths.map((_, i) => (decoded as Record<string, unknown> | undefined)?.[String(i)])
      : [decoded];
    const request: SeenRequest = {
      url,
      method: init.method,
      paths,
      inputs,
      headers: init.headers,
      ...(init.signal ? { signal: init.signal } : {}),
    };
    requests.push(request);
    const reply = await handler(request, requests.length - 1);
    if ("networkError" in reply) throw reply.networkError;
    // Handlers answer in batch form; an unbatched request (`batch: false`) gets the one envelope.
    const body = !batched && Array.isArray(reply.body) && reply.body.length === 1 ? reply.body[0] : reply.body;
    const text = typeof body === "string" ? body : JSON.stringify(body);
    return new Response(text, {
      status: reply.status,
      headers: { "content-type": reply.contentType ?? "application/json" },
    });
  };
  return { fetch, requests };
}

/** tRPC's success envelope. */
export const ok = (data: unknown) => ({ result: { data } });

const JSONRPC_CODES: Record<string, number> = {
  BAD_REQUEST: -32600,
  UNAUTHORIZED: -32001,
  FORBIDDEN: -32003,
  NOT_FOUND: -32004,
  TOO_MANY_REQUESTS: -32029,
  INTERNAL_SERVER_ERROR: -32603,
};

/** tRPC's error envelope as this server shapes it (its formatter adds `fieldErrors` and friends to `data`). */
export function trpcError(code: string, httpStatus: number, message: string, data: Record<string, unknown> = {}) {
  return {
    error: {
      message,
      code: JSONRPC_CODES[code] ?? -32603,
      data: { code, httpStatus, path: "x", fieldErrors: {}, ...data },
    },
  };
}

/** A reply to a batched request: one envelope per procedure, at the status tRPC would use. */
export function batchReply(...items: ReturnType<typeof ok | typeof trpcError>[]): Reply {
  const statuses = items.map((item) => ("error" in item ? item.error.data.httpStatus : 200));
  const status = statuses.every((s) => s === statuses[0]) ? (statuses[0] ?? 200) : 207;
  return { status, body: items };
}

/** What Node's fetch throws when nothing answers. */
export const connectionRefused = () =>
  Object.assign(new TypeError("fetch failed"), {
    cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
  });
