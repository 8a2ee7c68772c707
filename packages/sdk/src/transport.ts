import { codeForStatus, TransportFailure } from "./errors.js";
import type { HeadersSource, TenantryFetch, TenantryFetchResponse, TokenSource } from "./types.js";

/** `https://host/prefix` → `https://host/prefix/trpc`; a URL that already ends in `/trpc` is kept. */
export function trpcUrl(baseUrl: string | URL): string {
  const base = String(baseUrl).replace(/\/+$/, "");
  return /\/trpc$/.test(base) ? base : `${base}/trpc`;
}

/** What tRPC's HTTP links read of a response. */
interface LinkResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  json(): Promise<unknown>;
}

type LinkFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<LinkResponse>;

const isAbort = (error: unknown) =>
  typeof error === "object" && error !== null && (error as { name?: unknown }).name === "AbortError";

/**
 * Wraps the caller's `fetch` for tRPC's link. This is where the SDK tells a
 * lost request (`NETWORK_ERROR`, which queries retry) from an answer that is
 * not a tRPC response (coded by its HTTP status, never retried).
 */
export function transportFetch(fetch: TenantryFetch | undefined): LinkFetch {
  const send: TenantryFetch = fetch ?? ((url, init) => globalThis.fetch(url, init));
  return async (url, init) => {
    let response: TenantryFetchResponse;
    let text: string;
    try {
      response = await send(url, init);
      text = await response.text();
    } catch (cause) {
      if (init.signal?.aborted || isAbort(cause)) throw cause;
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new TransportFailure("NETWORK_ERROR", 0, `The request to ${url} failed: ${reason}`, { cause });
    }
    const { status } = response;
    const statusText = response.statusText ?? "";
    return {
      ok: status >= 200 && status < 300,
      status,
      statusText,
      async json() {
        try {
          return JSON.parse(text) as unknown;
        } catch (cause) {
          const what = `${status}${statusText ? ` ${statusText}` : ""}`;
          throw new TransportFailure(codeForStatus(status), status, `The server answered ${what}, not with JSON.`, {
            cause,
          });
        }
      },
    };
  };
}

/** The headers of one HTTP request: the caller's, then `Authorization: Bearer <token>` when there is a token. */
export async function requestHeaders(headers: HeadersSource | undefined, token: TokenSource | undefined) {
  const given = typeof headers === "function" ? await headers() : headers;
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(given ?? {})) if (value !== undefined) result[name] = value;
  const bearer = typeof token === "function" ? await token() : token;
  if (bearer) {
    for (const name of Object.keys(result)) if (name.toLowerCase() === "authorization") delete result[name];
    result.authorization = `Bearer ${bearer}`;
  }
  return result;
}

/** Default backoff: 250 ms, 500 ms, 1 s, 2 s, ... at most 8 s before retry `attempt` (1-based). */
export function defaultRetryDelay(attempt: number): number {
  return Math.min(250 * 2 ** (attempt - 1), 8_000);
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
