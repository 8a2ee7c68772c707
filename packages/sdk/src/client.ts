import { createTRPCUntypedClient, type HTTPBatchLinkOptions, httpBatchLink, httpLink } from "@trpc/client";
import { abortError, toTenantryError } from "./errors.js";
import { procedureKinds } from "./generated/api.js";
import { defaultRetryDelay, requestHeaders, sleep, transportFetch, trpcUrl } from "./transport.js";
import type { ApiProcedures, CallOptions, TenantryClient, TenantryClientOptions } from "./types.js";

type Kind = "query" | "mutation";
type KindTable = { readonly [name: string]: Kind | KindTable };
type Invoke = (kind: Kind, path: string, input: unknown, options?: CallOptions) => Promise<unknown>;

/** The run-time table and the procedure types come from one generation; `satisfies` keeps them in step. */
type KindsOf<T> = { [K in keyof T]: T[K] extends { kind: infer Kd } ? Kd : KindsOf<T[K]> };

/** The server's `maxParamLength`: the tRPC adapter's `/trpc/:path` holds the batch's joined paths. */
const MAX_BATCH_PATH = 2048;
/** Beyond this a batch is more latency than it saves. */
const MAX_BATCH_ITEMS = 50;
/** Batched queries carry their inputs in the URL; longer batches are split. */
const MAX_URL_LENGTH = 8000;

function paths(table: KindTable, prefix = ""): string[] {
  return Object.entries(table).flatMap(([name, node]) =>
    typeof node === "string" ? [`${prefix}${name}`] : paths(node, `${prefix}${name}.`),
  );
}

/** As many calls as fit the path limit even when every one is the longest procedure name. */
function defaultMaxItems(): number {
  const longest = Math.max(...paths(procedureKinds).map((p) => p.length));
  return Math.max(1, Math.min(MAX_BATCH_ITEMS, Math.floor((MAX_BATCH_PATH + 1) / (longest + 1))));
}

/**
 * A typed client for a Tenantry server. Every procedure is
 * `client.<namespace>.<name>(input, { signal })`; every failure rejects with
 * a `TenantryError`.
 */
export function createTenantryClient(options: TenantryClientOptions): TenantryClient {
  const link = {
    url: trpcUrl(options.baseUrl),
    // tRPC calls it as `fetch(url, { method, signal, body, headers })` with a string body and plain headers.
    fetch: transportFetch(options.fetch) as unknown as HTTPBatchLinkOptions<never>["fetch"],
    headers: () => requestHeaders(options.headers, options.token),
  };
  const untyped = createTRPCUntypedClient({
    links: [
      options.batch === false
        ? httpLink(link)
        : httpBatchLink({
            ...link,
            maxItems: options.batch?.maxItems ?? defaultMaxItems(),
            maxURLLength: MAX_URL_LENGTH,
          }),
    ],
  });

  const retry = options.retry === false ? { retries: 0 } : (options.retry ?? {});
  const retries = retry.retries ?? 3;
  const delay = retry.delay ?? defaultRetryDelay;
  const wait = retry.sleep ?? sleep;

  const invoke: Invoke = async (kind, path, input, callOptions) => {
    const signal = callOptions?.signal;
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw abortError(signal, path);
      try {
        const request =
          kind === "query" ? untyped.query(path, input, { signal }) : untyped.mutation(path, input, { signal });
        return await untilAborted(request, signal, path);
      } catch (cause) {
        const error = toTenantryError(cause, path, signal);
        // Only a query is safe to send again, and only when no answer came back.
        if (kind !== "query" || error.code !== "NETWORK_ERROR" || attempt > retries) throw error;
        try {
          await wait(delay(attempt), signal);
        } catch (reason) {
          throw signal?.aborted ? abortError(signal, path) : toTenantryError(reason, path);
        }
      }
    }
  };
  return build(procedureKinds satisfies KindsOf<ApiProcedures>, "", invoke) as TenantryClient;
}

/**
 * Settles with `promise`, or rejects as soon as `signal` aborts: a batched
 * call's HTTP request is only cancelled once every call in it is, but the
 * aborted call itself must not wait for the others.
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined, path: string): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal, path));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

function build(table: KindTable, prefix: string, invoke: Invoke): Record<string, unknown> {
  const namespace: Record<string, unknown> = {};
  for (const [name, node] of Object.entries(table)) {
    const path = `${prefix}${name}`;
    namespace[name] =
      typeof node === "string"
        ? (input?: unknown, options?: CallOptions) => invoke(node, path, input, options)
        : build(node, `${path}.`, invoke);
  }
  return Object.freeze(namespace);
}
