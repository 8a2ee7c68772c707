import { randomUUID } from "node:crypto";
import { Validator } from "@seriousme/openapi-schema-validator";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { buildApp } from "../app.js";
import { loadEnv } from "../env.js";
import { createLogger } from "../logger.js";
import {
  addMemberRest,
  type Json,
  KEYS,
  type Reply,
  RestClient,
  type RestTenant,
  signUpRest,
  statusOf,
} from "../test-support/rest.js";
import { startTestServer, type TestServer } from "../test-support/server.js";

const HTTP_METHODS = ["get", "post", "put", "patch", "delete"] as const;

/**
 * Every (method, path) the live fastify instance routes, from `printRoutes`:
 * a tree whose lines are `<indent>├── <segment> (<METHODS>)`, four characters
 * of indent per level.
 */
function liveRoutes(tree: string): { method: string; path: string }[] {
  const routes: { method: string; path: string }[] = [];
  const stack: string[] = [];
  for (const line of tree.split("\n")) {
    const match = /^(.*?)(?:├── |└── )(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = Array.from(match[1] ?? "").length / 4;
    stack.length = depth;
    stack.push(match[2] ?? "");
    const methods = match[3];
    if (!methods) continue;
    for (const method of methods.split(",").map((m) => m.trim())) routes.push({ method, path: stack.join("") });
  }
  return routes;
}

/**
 * The operations a fastify instance really serves under /api/: every routed
 * (method, path) from its route tree, less HEAD/OPTIONS, the docs, the
 * document itself, and the REST shim's helpers — the 405 for a method a path
 * does not take and the 308 to the slashed path — told apart by asking each
 * route once (`send` answers the status).
 */
async function servedOperations(
  app: FastifyInstance,
  send: (method: string, url: string) => Promise<number>,
): Promise<Set<string>> {
  const tree = app.printRoutes({ commonPrefix: false });
  const routed = liveRoutes(tree).filter(
    ({ method, path }) =>
      path.startsWith("/api/") &&
      !["HEAD", "OPTIONS"].includes(method) &&
      !path.startsWith("/api/docs") &&
      path !== "/api/openapi.json",
  );
  // The parse found the tree (not an empty list).
  expect(routed.length, tree).toBeGreaterThan(20);
  const served = new Set<string>();
  for (const { method, path } of routed) {
    const status = await send(method, path.replace(/:[A-Za-z_]+/g, randomUUID()));
    if (status !== 405 && status !== 308) served.add(`${method} ${toOpenApiPath(path)}`);
  }
  return served;
}

function documentedOperations(doc: Json): Set<string> {
  const documented = new Set<string>();
  for (const [path, item] of Object.entries<Json>(doc.paths)) {
    for (const method of HTTP_METHODS) if (item[method]) documented.add(`${method.toUpperCase()} ${path}`);
  }
  return documented;
}

/** The operations API.md's "Endpoints" table lists. */
const API_MD_OPERATIONS = new Set([
  "POST /api/tenants/",
  "GET /api/tenants/",
  "GET /api/tenants/{id}/",
  "POST /api/auth/login/",
  "POST /api/auth/logout/",
  "GET /api/users/me/",
  "GET /api/users/",
  "POST /api/users/invite/",
  "GET /api/users/invitations/",
  "DELETE /api/users/invitations/{id}/",
  "POST /api/users/invitations/{id}/extend/",
  "POST /api/users/accept-invite/",
  "GET /api/user-roles/",
  "POST /api/user-roles/",
  "DELETE /api/user-roles/{id}/",
  // The second release's.
  "PATCH /api/users/me/",
  "POST /api/users/{id}/deactivate/",
  "POST /api/users/{id}/activate/",
  "DELETE /api/users/{id}/",
  "POST /api/auth/password/change/",
  "GET /api/auth/sessions/",
  "DELETE /api/auth/sessions/",
  "DELETE /api/auth/sessions/{id}/",
  "POST /api/users/invitations/preview/",
  "POST /api/users/invite/bulk/",
]);

/** `/api/users/:id/` → `/api/users/{id}/` (OpenAPI's spelling). */
const toOpenApiPath = (path: string) => path.replace(/:([A-Za-z_]+)/g, "{$1}");

describe("the OpenAPI document and the docs page", () => {
  let server: TestServer;
  let api: RestClient;
  let doc: Json;
  let resolved: Json;
  beforeAll(async () => {
    server = await startTestServer({ env: { THROTTLE: "off" } });
    api = new RestClient(server.url);
    const reply = await api.get("/api/openapi.json");
    expect(reply.status, statusOf(reply)).toBe(200);
    doc = reply.body;
    const validator = new Validator();
    await validator.validate(structuredClone(doc));
    resolved = validator.resolveRefs();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("is served as JSON and is a valid OpenAPI 3.1 document (by a real validator)", async () => {
    const reply = await api.get("/api/openapi.json");
    expect(reply.headers.get("content-type")).toMatch(/^application\/json/);
    expect(doc.openapi).toMatch(/^3\.1\./);
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    expect(result.valid, JSON.stringify(result.errors, null, 2)).toBe(true);
    expect(validator.version).toMatch(/^3\.1/);
  });

  it("the validator is not vacuous: it rejects a broken document", async () => {
    const broken = structuredClone(doc);
    broken.paths["/api/tenants/"].post.responses = "nope";
    const result = await new Validator().validate(broken);
    expect(result.valid).toBe(false);
  });

  it("documents exactly the operations the live server serves under /api/", async () => {
    const served = await servedOperations(server.app, async (method, url) => {
      const reply = await api.call(method, url, method === "GET" || method === "DELETE" ? {} : { json: {} });
      return reply.status;
    });
    const documented = documentedOperations(doc);
    expect([...served].sort()).toEqual([...documented].sort());
    // Among them, every operation API.md lists.
    const missing = [...API_MD_OPERATIONS].filter((operation) => !documented.has(operation));
    expect(missing).toEqual([]);
  });

  it("would catch a route added without a schema (the check above, on an app with one more route)", async () => {
    const app = await buildApp({
      env: loadEnv({ NODE_ENV: "test", THROTTLE: "off" }),
      db: server.db,
      logger: createLogger("silent"),
      services: server.services.services,
    });
    try {
      app.get("/api/undocumented/:id/", async () => ({ secret: true }));
      app.post("/api/users/undocumented-too/", async () => ({}));
      await app.ready();
      const served = await servedOperations(app, async (method, url) => {
        const reply = await app.inject({ method: method as "GET", url, ...(method === "GET" ? {} : { payload: {} }) });
        return reply.statusCode;
      });
      const undocumented = [...served].filter((operation) => !documentedOperations(doc).has(operation));
      expect(undocumented.sort()).toEqual(["GET /api/undocumented/{id}/", "POST /api/users/undocumented-too/"]);
    } finally {
      await app.close();
    }
  });

  it("gives every operation its request and response schemas", () => {
    const bodies: Record<string, { properties: string[]; required: string[] }> = {
      "POST /api/tenants/": {
        properties: [
          "admin_email",
          "admin_first_name",
          "admin_last_name",
          "admin_password",
          "first_name",
          "last_name",
          "name",
        ],
        required: ["admin_email", "admin_password", "name"],
      },
      "POST /api/auth/login/": { properties: ["email", "password", "tenant"], required: ["email", "password"] },
      "POST /api/users/invite/": { properties: ["email", "role", "tenant"], required: ["email"] },
      "POST /api/users/accept-invite/": {
        properties: ["first_name", "last_name", "password", "token"],
        required: ["password", "token"],
      },
      "POST /api/user-roles/": { properties: ["role", "user"], required: ["role", "user"] },
      "POST /api/users/invitations/{id}/extend/": { properties: ["days"], required: [] },
      "PATCH /api/users/me/": { properties: ["first_name", "last_name"], required: [] },
      "POST /api/users/invitations/preview/": { properties: ["token"], required: ["token"] },
      "POST /api/users/invite/bulk/": { properties: ["invitations", "tenant"], required: ["invitations"] },
      "POST /api/auth/password/change/": {
        properties: ["current_password", "new_password"],
        required: ["current_password", "new_password"],
      },
    };
    const queries: Record<string, string[]> = {
      "GET /api/tenants/": ["limit", "offset"],
      "GET /api/users/": ["is_active", "limit", "offset", "tenant"],
      // Issue #16 adds `cursor` (DRF's CursorPagination) to the list that grows without bound.
      "GET /api/users/invitations/": ["cursor", "limit", "offset", "status", "tenant"],
      "GET /api/user-roles/": ["limit", "offset", "role", "tenant", "user"],
    };
    for (const [path, item] of Object.entries<Json>(resolved.paths)) {
      for (const method of HTTP_METHODS) {
        const operation = item[method];
        if (!operation) continue;
        const name = `${method.toUpperCase()} ${path}`;
        expect(operation.operationId, name).toEqual(expect.any(String));
        const statuses = Object.keys(operation.responses);
        const success = statuses.filter((status) => status.startsWith("2"));
        expect(success, name).toHaveLength(1);
        for (const status of statuses) {
          if (status === "204") {
            expect(operation.responses[status].content, name).toBeUndefined();
            continue;
          }
          const schema = operation.responses[status].content?.["application/json"]?.schema;
          expect(schema, `${name} ${status}`).toBeDefined();
          expect(Object.keys(schema).length, `${name} ${status}`).toBeGreaterThan(0);
        }
        for (const status of ["500", ...(path.includes("{id}") ? ["404"] : [])]) {
          expect(statuses, name).toContain(status);
        }

        const parameters = (operation.parameters ?? []) as Json[];
        if (operation.requestBody) {
          const schema = operation.requestBody.content?.["application/json"]?.schema;
          expect(schema?.type, name).toBe("object");
          expect(schema.properties, name).toBeDefined();
        }
        for (const parameter of parameters) expect(parameter.schema, `${name} ${parameter.name}`).toBeDefined();
        // API.md's operations: exactly its fields and filters.
        if (API_MD_OPERATIONS.has(name)) {
          const body = bodies[name];
          if (body) {
            const schema = operation.requestBody?.content?.["application/json"]?.schema;
            expect(schema?.type, name).toBe("object");
            expect(Object.keys(schema.properties).sort(), name).toEqual(body.properties);
            expect([...(schema.required ?? [])].sort(), name).toEqual(body.required);
          } else {
            expect(operation.requestBody, `${name} takes no body`).toBeUndefined();
          }
          const query = parameters.filter((p) => p.in === "query").map((p) => p.name);
          expect(query.sort(), name).toEqual(queries[name] ?? []);
        }
        if (path.includes("{id}")) {
          expect(parameters.find((p) => p.in === "path" && p.name === "id")?.required, name).toBe(true);
        }
      }
    }
    const status = resolved.paths["/api/users/invitations/"].get.parameters.find((p: Json) => p.name === "status");
    expect([...status.schema.enum].sort()).toEqual(["accepted", "expired", "pending", "revoked"]);
  });

  it("names the objects of API.md with exactly their keys, all required", () => {
    const components: [string, readonly string[]][] = [
      ["Tenant", KEYS.tenant],
      ["CreatedTenant", KEYS.createdTenant],
      ["User", KEYS.user],
      ["Login", KEYS.login],
      ["Invitation", KEYS.invitation],
      ["CreatedInvitation", KEYS.createdInvitation],
      ["RoleAssignment", KEYS.roleAssignment],
    ];
    for (const [name, keys] of components) {
      const schema = doc.components.schemas[name];
      expect(schema, name).toBeDefined();
      expect(Object.keys(schema.properties).sort(), name).toEqual([...keys]);
      expect([...schema.required].sort(), name).toEqual([...keys]);
    }
  });

  describe("real responses conform to the documented schemas", () => {
    let acme: RestTenant;
    let replies: Reply[];
    beforeAll(async () => {
      const calls = new RestClient(server.url);
      acme = await signUpRest(calls);
      const member = await addMemberRest(calls, acme.adminToken, "schema@openapi.example.com", "ANALYST");
      const token = acme.adminToken;
      const invited = await calls.post("/api/users/invite/", { email: "pending@openapi.example.com" }, { token });
      const granted = await calls.post("/api/user-roles/", { user: member.user.id, role: "VIEWER" }, { token });
      await calls.get("/api/tenants/", { token });
      await calls.get("/api/tenants/?limit=1", { token });
      await calls.get(`/api/tenants/${acme.tenant.id}/`, { token });
      await calls.get("/api/users/me/", { token });
      await calls.get("/api/users/", { token });
      await calls.get("/api/users/?limit=1", { token });
      await calls.get("/api/users/invitations/", { token });
      await calls.get("/api/users/invitations/?limit=1&offset=1", { token });
      const byCursor = await calls.get("/api/users/invitations/?cursor=&limit=1", { token });
      await calls.get(new URL(byCursor.body.next).pathname + new URL(byCursor.body.next).search, { token });
      await calls.get("/api/audit-events/?cursor=", { token });
      await calls.get("/api/audit-events/?cursor=not-a-cursor", { token });
      await calls.post(`/api/users/invitations/${invited.body.id}/extend/`, { days: 2 }, { token });
      await calls.get("/api/user-roles/", { token });
      await calls.get("/api/user-roles/?limit=2", { token });
      await calls.delete(`/api/user-roles/${granted.body.id}/`, { token });
      await calls.delete(`/api/users/invitations/${invited.body.id}/`, { token });
      // Errors too.
      await calls.post("/api/tenants/", {});
      await calls.post("/api/auth/login/", { email: acme.adminEmail, password: "wrong-password" });
      await calls.get("/api/users/me/");
      await calls.post("/api/users/invite/", { email: "x@openapi.example.com" }, { token: member.token });
      await calls.get(`/api/tenants/${randomUUID()}/`, { token });
      await calls.call("POST", "/api/users/invite/", { raw: "x=1", contentType: "text/plain", token });
      await calls.post("/api/auth/logout/", undefined, { token });
      replies = calls.log;
    });

    /** The documented schema for a reply: its path template, method and status. */
    function documentedSchema(reply: Reply): unknown {
      const pathname = new URL(reply.path, server.url).pathname;
      // A literal path wins over a template (`/api/users/invite/` over `/api/users/{id}/`), as the router decides.
      const template = Object.keys(resolved.paths)
        .filter((path) => new RegExp(`^${path.replace(/\{[^}]+\}/g, "[^/]+")}$`).test(pathname))
        .sort((a, b) => a.split("{").length - b.split("{").length)[0];
      if (!template) throw new Error(`undocumented path ${pathname}`);
      const operation = resolved.paths[template][reply.method.toLowerCase()];
      if (!operation) throw new Error(`undocumented operation ${reply.method} ${template}`);
      const response = operation.responses[String(reply.status)];
      if (!response) throw new Error(`undocumented status ${reply.status} for ${reply.method} ${template}`);
      return response.content?.["application/json"]?.schema;
    }

    it("every body matches its operation's documented schema for that status", () => {
      expect(replies.length).toBeGreaterThan(25);
      const problems: string[] = [];
      for (const reply of replies) {
        let schema: unknown;
        try {
          schema = documentedSchema(reply);
        } catch (error) {
          problems.push(`${statusOf(reply)}: ${(error as Error).message}`);
          continue;
        }
        if (reply.status === 204) {
          if (reply.text !== "") problems.push(`${statusOf(reply)}: 204 with a body`);
          continue;
        }
        const result = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]).safeParse(reply.body);
        if (!result.success) problems.push(`${statusOf(reply)}: ${result.error.message}`);
      }
      expect(problems, problems.join("\n")).toEqual([]);
    });

    it("the schema check is not vacuous: an extra, a missing or a mistyped key fails it", () => {
      const login = replies.find((reply) => reply.path === "/api/auth/login/" && reply.status === 200);
      const me = replies.find((reply) => reply.path === "/api/users/me/" && reply.status === 200);
      if (!login || !me) throw new Error("no login or me reply recorded");
      const schema = z.fromJSONSchema(documentedSchema(me) as Parameters<typeof z.fromJSONSchema>[0]);
      expect(schema.safeParse(me.body).success).toBe(true);
      const { email: _email, ...missing } = me.body;
      expect(schema.safeParse(missing).success).toBe(false);
      expect(schema.safeParse({ ...me.body, password_hash: "x" }).success).toBe(false);
      expect(schema.safeParse({ ...me.body, roles: "ADMIN" }).success).toBe(false);
      expect(schema.safeParse({ ...me.body, id: "not-a-uuid" }).success).toBe(false);
    });
  });

  it("serves the docs page with same-origin assets only, and its assets load", async () => {
    const page = await api.get("/api/docs/");
    expect(page.status, statusOf(page)).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const references = [...page.text.matchAll(/<(script|link)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["']/gi)].map(
      (match) => ({ tag: (match[1] ?? "").toLowerCase(), url: match[2] ?? "" }),
    );
    const scripts = references.filter((reference) => reference.tag === "script");
    expect(scripts.length, page.text).toBeGreaterThan(0);
    for (const { url } of references) {
      expect(url, "no CDN").not.toMatch(/^(https?:)?\/\//i);
    }
    expect(page.text).not.toMatch(/<(script|link)\b[^>]*(https?:)?\/\/(?!127\.0\.0\.1)/i);
    for (const { tag, url } of references) {
      const asset = await fetch(new URL(url, `${server.url}/api/docs/`));
      expect(asset.status, `${tag} ${url}`).toBe(200);
      if (tag === "script") expect(asset.headers.get("content-type"), url).toMatch(/javascript/);
      const text = await asset.text();
      expect(text.length, url).toBeGreaterThan(0);
      if (tag === "script" && /initializer/.test(url)) expect(text).toContain("/api/openapi.json");
    }
  });
});

describe("liveRoutes (the printRoutes parser)", () => {
  it("reads paths and methods from a fastify route tree", () => {
    const tree = [
      "├── /healthz (GET, HEAD)",
      "├── /api/things (GET, POST)",
      "│   └── / (GET, HEAD, POST)",
      "│       └── :id (DELETE)",
      "│           └── / (DELETE)",
      "└── /api/other/ (PUT)",
    ].join("\n");
    expect(liveRoutes(tree)).toEqual([
      { method: "GET", path: "/healthz" },
      { method: "HEAD", path: "/healthz" },
      { method: "GET", path: "/api/things" },
      { method: "POST", path: "/api/things" },
      { method: "GET", path: "/api/things/" },
      { method: "HEAD", path: "/api/things/" },
      { method: "POST", path: "/api/things/" },
      { method: "DELETE", path: "/api/things/:id" },
      { method: "DELETE", path: "/api/things/:id/" },
      { method: "PUT", path: "/api/other/" },
    ]);
  });
});
