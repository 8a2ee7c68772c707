import { writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { systemClock } from "../domain/clock.js";
import { createSuperuser } from "../domain/users.js";
import type { TestServer } from "./server.js";

/**
 * Helpers for the REST wire-contract tests (src/rest/*.http.test.ts): plain
 * `fetch` against a real server, exactly as an existing REST caller sends.
 */
export const PASSWORD = "correct-Horse-battery-9";
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** ISO 8601 in UTC, as `Date.prototype.toISOString` writes it. */
export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

export const KEYS = {
  tenant: ["created_at", "id", "name", "slug"],
  createdTenant: ["admin_user_id", "created_at", "id", "name", "slug"],
  user: ["date_joined", "email", "first_name", "id", "is_active", "is_superuser", "last_name", "roles", "tenant"],
  login: ["expires_at", "token", "user"],
  invitation: [
    "accepted_at",
    "created_at",
    "email",
    "email_delivery",
    "expires_at",
    "id",
    "invited_by",
    "role",
    "status",
    "tenant",
  ],
  createdInvitation: [
    "accepted_at",
    "created_at",
    "email",
    "email_delivery",
    "expires_at",
    "id",
    "invited_by",
    "role",
    "status",
    "tenant",
    "token",
  ],
  roleAssignment: ["created_at", "granted_by", "id", "role", "tenant", "user"],
} as const;

export const DETAIL = {
  notAuthenticated: { detail: "Authentication credentials were not provided." },
  invalidToken: { detail: "Invalid token." },
  forbidden: { detail: "You do not have permission to perform this action." },
  notFound: { detail: "Not found." },
  csrf: { detail: "CSRF Failed: Origin checking failed." },
  serverError: { detail: "A server error occurred." },
  loginFailed: { non_field_errors: ["Unable to log in with provided credentials."] },
} as const;

// biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected key by key
export type Json = any;

export interface CallOptions {
  /** Sent as JSON (any value, including `null`); omitted when undefined. */
  json?: unknown;
  /** Sent verbatim (with `contentType`, default application/json). */
  raw?: string | Uint8Array;
  contentType?: string;
  /** `Authorization: Bearer <token>` (or `scheme`). */
  token?: string;
  scheme?: string;
  /** The `session` cookie. */
  cookie?: string;
  origin?: string;
  headers?: Record<string, string>;
  redirect?: "manual" | "follow" | "error";
}

export interface Reply {
  method: string;
  path: string;
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON body, or undefined when the body is empty or not JSON. */
  body: Json;
  requestBody?: unknown;
  /** A raw (non-JSON-encoded) request body, shortened. */
  requestRaw?: string;
  /** Request headers worth showing in a transcript (tokens shortened). */
  requestHeaders: string[];
}

/** A REST client for one server; every exchange can be recorded for the transcript. */
export class RestClient {
  readonly log: Reply[] = [];

  constructor(readonly base: string) {}

  async call(method: string, path: string, options: CallOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | Uint8Array | undefined;
    if (options.raw !== undefined) {
      body = options.raw;
      headers["content-type"] = options.contentType ?? "application/json";
    } else if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers["content-type"] = options.contentType ?? "application/json";
    }
    if (options.token !== undefined) headers.authorization = `${options.scheme ?? "Bearer"} ${options.token}`;
    if (options.cookie !== undefined) headers.cookie = `session=${options.cookie}`;
    if (options.origin !== undefined) headers.origin = options.origin;
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers,
      body,
      redirect: options.redirect ?? "manual",
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    const shown: string[] = [];
    if (headers.authorization) shown.push(`authorization: ${shorten(headers.authorization)}`);
    if (headers.cookie) shown.push(`cookie: ${shorten(headers.cookie)}`);
    if (headers.origin) shown.push(`origin: ${headers.origin}`);
    if (headers["content-type"] && headers["content-type"] !== "application/json") {
      shown.push(`content-type: ${headers["content-type"]}`);
    }
    const reply: Reply = {
      method,
      path,
      status: response.status,
      headers: response.headers,
      text,
      body: parsed,
      requestBody: options.json,
      requestRaw: options.raw !== undefined ? describeRaw(options.raw) : undefined,
      requestHeaders: shown,
    };
    this.log.push(reply);
    return reply;
  }

  get(path: string, options?: CallOptions) {
    return this.call("GET", path, options);
  }
  post(path: string, json?: unknown, options?: CallOptions) {
    return this.call("POST", path, { ...options, json });
  }
  delete(path: string, options?: CallOptions) {
    return this.call("DELETE", path, options);
  }
}

function shorten(value: string): string {
  return value.replace(/([A-Za-z0-9_-]{8})[A-Za-z0-9_.-]{8,}/g, "$1…");
}

function describeRaw(raw: string | Uint8Array): string {
  const text = typeof raw === "string" ? raw : Buffer.from(raw).toString();
  return text.length > 80 ? `${text.slice(0, 40)}… (${text.length} bytes)` : text;
}

/** Asserts the status, with the body in the failure message. */
export function statusOf(reply: Reply): string {
  return `${reply.method} ${reply.path} -> ${reply.status} ${reply.text.slice(0, 500)}`;
}

let counter = 0;
/** A name no other test in this process uses. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}

export interface RestTenant {
  tenant: Json;
  adminEmail: string;
  adminId: string;
  adminToken: string;
}

/** Signs a tenant up and logs its admin in, over REST. */
export async function signUpRest(api: RestClient, name = uniqueName("Tenant")): Promise<RestTenant> {
  const adminEmail = `admin@${name.toLowerCase()}.example.com`;
  const created = await api.post("/api/tenants/", { name, admin_email: adminEmail, admin_password: PASSWORD });
  if (created.status !== 201) throw new Error(statusOf(created));
  const login = await api.post("/api/auth/login/", { email: adminEmail, password: PASSWORD });
  if (login.status !== 200) throw new Error(statusOf(login));
  return { tenant: created.body, adminEmail, adminId: created.body.admin_user_id, adminToken: login.body.token };
}

/** Invites an email into the admin's tenant, accepts and logs in, over REST. */
export async function addMemberRest(
  api: RestClient,
  adminToken: string,
  email: string,
  role: string | null,
): Promise<{ user: Json; token: string; invitation: Json }> {
  const invited = await api.post("/api/users/invite/", { email, role }, { token: adminToken });
  if (invited.status !== 201) throw new Error(statusOf(invited));
  const accepted = await api.post("/api/users/accept-invite/", { token: invited.body.token, password: PASSWORD });
  if (accepted.status !== 201) throw new Error(statusOf(accepted));
  const login = await api.post("/api/auth/login/", { email, password: PASSWORD, tenant: accepted.body.tenant });
  if (login.status !== 200) throw new Error(statusOf(login));
  return { user: accepted.body, token: login.body.token, invitation: invited.body };
}

/** Creates a superuser the way the CLI does, then logs them in over REST. */
export async function superuserRest(server: TestServer, api: RestClient): Promise<{ user: Json; token: string }> {
  const email = `${uniqueName("staff")}@platform.example.com`;
  const user = await createSuperuser(
    {
      em: server.db.orm.em.fork(),
      clock: systemClock,
      audit: { actor: { type: "cli" }, client: { ip: null, userAgent: "vitest" } },
    },
    { email, password: PASSWORD },
  );
  const login = await api.post("/api/auth/login/", { email, password: PASSWORD });
  if (login.status !== 200) throw new Error(statusOf(login));
  return { user, token: login.body.token };
}

/** Every `Set-Cookie` header of a reply. */
export function setCookies(reply: Reply): string[] {
  return reply.headers.getSetCookie();
}

/** The `session` cookie's value and attributes from a reply, if it sets one. */
export function sessionCookie(reply: Reply): { value: string; attributes: string[]; raw: string } | undefined {
  const raw = setCookies(reply).find((cookie) => cookie.startsWith("session="));
  if (!raw) return undefined;
  const [pair = "", ...attributes] = raw.split(";").map((part) => part.trim());
  return { value: decodeURIComponent(pair.slice("session=".length)), attributes, raw };
}

/** A request through node:http, for bodies fetch will not send as asked (chunked). */
export function rawHttp(
  base: string,
  options: { method: string; path: string; headers: Record<string, string>; chunks: (string | Buffer)[] },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  const url = new URL(options.path, base);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: options.method,
        path: url.pathname + url.search,
        headers: options.headers,
      },
      (response) => {
        const parts: Buffer[] = [];
        response.on("data", (chunk: Buffer) => parts.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text: Buffer.concat(parts).toString(),
          }),
        );
        response.on("error", reject);
      },
    );
    // The server may answer (413) and close before the whole body is written.
    request.on("error", reject);
    for (const chunk of options.chunks) request.write(chunk);
    request.end();
  });
}

/** Renders exchanges as a readable transcript. */
export function renderTranscript(sections: { title: string; replies: Reply[] }[]): string {
  const lines: string[] = [];
  for (const { title, replies } of sections) {
    lines.push(`==== ${title} ====`, "");
    for (const reply of replies) {
      lines.push(`> ${reply.method} ${reply.path}`);
      for (const header of reply.requestHeaders) lines.push(`> ${header}`);
      if (reply.requestRaw !== undefined) lines.push(`> ${reply.requestRaw}`);
      else if (reply.requestBody !== undefined) lines.push(`> ${JSON.stringify(reply.requestBody)}`);
      const interesting = ["location", "allow", "www-authenticate", "retry-after", "set-cookie", "content-type"];
      lines.push(`< ${reply.status}`);
      for (const name of interesting) {
        const value = name === "set-cookie" ? reply.headers.getSetCookie().join(" | ") : reply.headers.get(name);
        if (value) lines.push(`< ${name}: ${value}`);
      }
      lines.push(`< ${reply.text === "" ? "(empty body)" : reply.text}`, "");
    }
  }
  return lines.join("\n");
}

export function writeTranscript(path: string, sections: { title: string; replies: Reply[] }[]): void {
  writeFileSync(path, renderTranscript(sections));
}
