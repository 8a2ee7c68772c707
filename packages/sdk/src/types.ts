import type { ApiProcedures } from "./generated/api.js";

export type { ApiProcedures } from "./generated/api.js";

/** Options of one call. */
export interface CallOptions {
  /** Aborting it rejects the call at once with a `TenantryError` coded `ABORTED` (or `TIMEOUT` for `AbortSignal.timeout()`). */
  signal?: AbortSignal;
}

/** One procedure as the generated table describes it. */
export interface ProcedureShape {
  kind: "query" | "mutation";
  input?: unknown;
  output: unknown;
}

/** What a call resolves to: the output, or nothing for procedures that return none. */
type Result<P extends ProcedureShape> = [P["output"]] extends [undefined] ? Promise<void> : Promise<P["output"]>;

/**
 * A procedure as a function: the input first (optional when every field is,
 * absent for procedures that take none), then `{ signal }`.
 */
export type ProcedureCall<P extends ProcedureShape> = undefined extends P["input"]
  ? (input?: P["input"], options?: CallOptions) => Result<P>
  : (input: P["input"], options?: CallOptions) => Result<P>;

type Callable<T> = { readonly [K in keyof T]: T[K] extends ProcedureShape ? ProcedureCall<T[K]> : Callable<T[K]> };
type Select<T, F extends "input" | "output"> = {
  [K in keyof T]: T[K] extends ProcedureShape ? Exclude<T[K][F], undefined> : Select<T[K], F>;
};

/** The client: one namespace per router, one function per procedure. */
export type TenantryClient = Callable<ApiProcedures>;
/** Every procedure's input (without `undefined`), e.g. `TenantryInputs["invite"]["create"]`. */
export type TenantryInputs = Select<ApiProcedures, "input">;
/** Every procedure's result, e.g. `TenantryOutputs["user"]["me"]`. */
export type TenantryOutputs = Select<ApiProcedures, "output">;

export type Role = TenantryInputs["role"]["grant"]["role"];
export type Tenant = TenantryOutputs["tenant"]["get"];
export type CreatedTenant = TenantryOutputs["tenant"]["create"];
export type User = TenantryOutputs["user"]["me"];
export type LoginResult = TenantryOutputs["auth"]["login"];
export type Invitation = TenantryOutputs["invite"]["extend"];
export type CreatedInvitation = TenantryOutputs["invite"]["create"];
export type InvitationStatus = Invitation["status"];
export type RoleAssignment = TenantryOutputs["role"]["grant"];

/** A value, or a function (sync or async) asked for it before every HTTP request. */
export type Source<T> = T | (() => T | Promise<T>);

/** A session token (from `auth.login`); `null`/`undefined`/`""` sends no `Authorization` header. */
export type TokenSource = Source<string | null | undefined>;

/** Extra request headers. An `Authorization` header here is replaced when a token is set. */
export type HeadersSource = Source<Record<string, string | undefined>>;

/** The part of a `fetch` response the SDK reads. */
export interface TenantryFetchResponse {
  readonly status: number;
  readonly statusText?: string;
  text(): Promise<string>;
}

/** What the SDK passes to `fetch`. */
export interface TenantryFetchInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** Any WHATWG-style `fetch`: Node 20+, browsers, edge runtimes, or a wrapper around one. */
export type TenantryFetch = (url: string, init: TenantryFetchInit) => Promise<TenantryFetchResponse>;

/** Retries of queries that failed with `NETWORK_ERROR` (never mutations, never an HTTP answer). */
export interface RetryOptions {
  /** Retries after the first attempt. Default 3; 0 disables. */
  retries?: number;
  /** Milliseconds to wait before retry `attempt` (1, 2, ...). Default: 250 ms doubling, at most 8 s. */
  delay?: (attempt: number) => number;
  /** How to wait (default: a timer that the call's signal cuts short). Tests pass one that does not wait. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Batching of calls made in the same tick into one HTTP request (queries with queries, mutations with mutations). */
export interface BatchOptions {
  /**
   * Most calls in one HTTP request. Default: 50, or fewer if the batched path
   * (`/trpc/a.b,c.d,...`) would pass the server's 2048-character limit for that segment.
   */
  maxItems?: number;
}

export interface TenantryClientOptions {
  /** The server's address, e.g. `https://tenantry.example.com`; the SDK calls `<baseUrl>/trpc`. */
  baseUrl: string | URL;
  /** The session token to send as `Authorization: Bearer <token>`, or a function asked before each request. */
  token?: TokenSource;
  /** Extra headers, or a function asked before each request. */
  headers?: HeadersSource;
  /** The `fetch` to use; default `globalThis.fetch` (looked up at call time). */
  fetch?: TenantryFetch;
  /** Retries of queries on network failures; `false` disables them. */
  retry?: RetryOptions | false;
  /** Batching options; `false` sends one HTTP request per call. */
  batch?: BatchOptions | false;
}
