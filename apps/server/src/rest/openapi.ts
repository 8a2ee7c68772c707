import { z } from "zod";
import { DEFAULT_CURSOR_PAGE_SIZE } from "../domain/paging.js";
import {
  auditEventOutput,
  createdInvitationOutput,
  createdTenantOutput,
  invitationOutput,
  loginOutput,
  MAX_WINDOW_NUMBER,
  purgeOutput,
  roleAssignmentOutput,
  tenantOutput,
  userOutput,
} from "../schemas.js";
import { appRouter } from "../trpc/router.js";
import { wireName } from "./names.js";
import { REST_ROUTES, type RestRoute } from "./routes.js";

type JsonSchema = Record<string, unknown>;

/** The objects of API.md, named once in `components`. */
const COMPONENTS = new Map<z.ZodType, string>([
  [auditEventOutput, "AuditEvent"],
  [purgeOutput, "PurgeResult"],
  [tenantOutput, "Tenant"],
  [createdTenantOutput, "CreatedTenant"],
  [userOutput, "User"],
  [loginOutput, "Login"],
  [invitationOutput, "Invitation"],
  [createdInvitationOutput, "CreatedInvitation"],
  [roleAssignmentOutput, "RoleAssignment"],
]);

/** Procedures anyone may call; every other operation needs a session. */
const PUBLIC = new Set([
  "tenant.create",
  "auth.login",
  "invite.accept",
  "invite.preview",
  "auth.requestPasswordReset",
  "auth.confirmPasswordReset",
]);

const detail = (example: string): JsonSchema => ({
  type: "object",
  properties: { detail: { type: "string" } },
  required: ["detail"],
  example: { detail: example },
});

/**
 * The OpenAPI 3.1 document of the REST API, generated from the route table
 * and the procedures' own zod schemas (inputs and outputs), renamed to the
 * wire's snake_case exactly as the shim renames them.
 */
export function buildOpenApiDocument(version: string): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of REST_ROUTES) {
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operation(route) };
  }
  const components: Record<string, JsonSchema> = {};
  for (const [schema, name] of COMPONENTS) components[name] = toWireSchema(convert(schema, "output"));
  Object.assign(components, {
    ValidationError: {
      type: "object",
      description:
        'Messages per field (snake_case); `non_field_errors` for the request as a whole. A 400 that is not about fields answers `{"detail": …}` instead.',
      additionalProperties: { type: "array", items: { type: "string" } },
      example: { email: ["Enter a valid email address."] },
    },
    Detail: detail("Not found."),
  });
  return {
    openapi: "3.1.0",
    info: {
      title: "Tenantry REST API",
      version,
      description:
        "Multi-tenant onboarding and role-based access control. Compatible with the Django REST Framework backend it replaces: snake_case JSON, paths with a trailing slash (the bare path answers 308), DRF error shapes. Lists answer a plain array, or with `?limit=&offset=` DRF's `{count, next, previous, results}` envelope (limit capped at 1000). The lists that grow without bound (audit events, invitations) also page by cursor, as DRF's CursorPagination: `?cursor=` (empty for the first page) answers `{next, previous, results}`, where a deep page costs what the first does.",
    },
    servers: [{ url: "/" }],
    tags: [{ name: "tenants" }, { name: "auth" }, { name: "users" }, { name: "invitations" }, { name: "roles" }],
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description: "The token from login; `Authorization: Token <token>` (DRF's spelling) works too.",
        },
        session: {
          type: "apiKey",
          in: "cookie",
          name: "session",
          description:
            "Set by login. Changes (POST, PUT, PATCH, DELETE) authenticated by the cookie alone must carry an Origin header of the server itself or an allowed origin.",
        },
      },
    },
  };
}

function operation(route: RestRoute): Record<string, unknown> {
  const procedure = procedureDef(route.procedure);
  const input = mergedInput(procedure.inputs, "input");
  const inputProperties = (input.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((input.required ?? []) as string[]);
  const propertyOf = (wire: string) => inputProperties[fieldFor(wire, inputProperties)] ?? {};

  const parameters: Record<string, unknown>[] = [];
  if (route.id) {
    parameters.push({
      name: "id",
      in: "path",
      required: true,
      schema: route.id === "uuid" ? { type: "string", format: "uuid" } : { type: "string" },
      description:
        route.id === "ref" ? "The tenant's id or slug" : route.id === "session" ? "The session's id" : undefined,
    });
  }
  for (const name of route.query ?? []) {
    parameters.push({ name, in: "query", required: false, schema: toWireSchema(propertyOf(name)) });
  }
  if (route.pageProcedure) {
    parameters.push(
      {
        name: "limit",
        in: "query",
        required: false,
        schema: { type: "integer", minimum: 1, maximum: 1000 },
        ...(route.cursorProcedure
          ? { description: `Items per page; with \`cursor\`, ${DEFAULT_CURSOR_PAGE_SIZE} when absent` }
          : {}),
      },
      {
        name: "offset",
        in: "query",
        required: false,
        schema: { type: "integer", minimum: 0, maximum: MAX_WINDOW_NUMBER },
      },
    );
  }
  if (route.cursorProcedure) {
    parameters.push({
      name: "cursor",
      in: "query",
      required: false,
      schema: { type: "string" },
      description:
        'Page by cursor (DRF\'s CursorPagination): empty for the first page, then the `cursor` of a page\'s `next` or `previous` link. A cursor that does not decode answers 404 `{"detail": "Invalid cursor"}`, as DRF does.',
    });
  }

  const responses: Record<string, unknown> = {};
  const success = successSchema(route, procedure.output);
  responses[String(route.status)] =
    route.status === 204
      ? { description: "Done; no content." }
      : {
          description: "Success",
          content: { "application/json": { schema: success } },
          ...(route.session === "start"
            ? {
                headers: {
                  "Set-Cookie": {
                    description: "`session=<token>; HttpOnly; SameSite=Lax`",
                    schema: { type: "string" },
                  },
                },
              }
            : {}),
        };
  const error = (
    description: string,
    schema: JsonSchema = { $ref: "#/components/schemas/Detail" },
    headers?: object,
  ) => ({
    description,
    content: { "application/json": { schema } },
    ...(headers ? { headers } : {}),
  });
  if (route.body || route.query || route.id || route.pageProcedure) {
    responses["400"] = error("Invalid input", {
      oneOf: [{ $ref: "#/components/schemas/ValidationError" }, { $ref: "#/components/schemas/Detail" }],
    });
  }
  if (!PUBLIC.has(route.procedure)) {
    responses["401"] = error("No credentials, or an invalid, expired or revoked token", undefined, {
      "WWW-Authenticate": { schema: { type: "string" } },
    });
    responses["403"] = error("Not allowed for this caller (or a cookie-authenticated change from another origin)");
  }
  if (route.id) responses["404"] = error("No such object in the caller's scope");
  else if (route.cursorProcedure)
    responses["404"] = error('`cursor` is not one the server made: `{"detail": "Invalid cursor"}`');
  if (route.method !== "GET") {
    responses["413"] = error("The body is larger than 64 KiB");
    responses["415"] = error("The body is not JSON");
  }
  if (PUBLIC.has(route.procedure)) {
    responses["429"] = error("Throttled", undefined, {
      "Retry-After": { description: "Seconds until the call may be retried", schema: { type: "integer" } },
    });
  }
  responses["500"] = error("A server error occurred.");

  const body = route.body
    ? {
        required: true,
        content: {
          "application/json": {
            schema: {
              type: "object",
              properties: Object.fromEntries([
                ...route.body.map((name) => [name, toWireSchema(propertyOf(name))]),
                ...Object.entries(route.bodyAliases ?? {}).map(([alias, name]) => [
                  alias,
                  { ...toWireSchema(propertyOf(name)), description: `Also accepted instead of \`${name}\`.` },
                ]),
              ]),
              required: route.body.filter((name) => required.has(fieldFor(name, inputProperties))),
            },
          },
        },
      }
    : undefined;

  return {
    operationId: route.procedure.replaceAll(".", "_"),
    summary: route.summary,
    tags: [route.tag],
    security: PUBLIC.has(route.procedure) ? [] : [{ bearer: [] }, { session: [] }],
    ...(parameters.length ? { parameters } : {}),
    ...(body ? { requestBody: body } : {}),
    responses,
  };
}

function successSchema(route: RestRoute, output: z.ZodType | undefined): JsonSchema {
  const plain = output ? schemaRef(output) : {};
  if (!route.pageProcedure) return plain;
  const page = procedureDef(route.pageProcedure).output;
  const item = page ? ((page as z.ZodObject).shape.results as z.ZodArray).element : undefined;
  const items = { type: "array", items: item ? schemaRef(item as z.ZodType) : {} };
  const byCursor = route.cursorProcedure
    ? [
        {
          type: "object",
          description: "With `?cursor=`: DRF's CursorPagination envelope (no count)",
          properties: {
            next: { type: ["string", "null"], format: "uri" },
            previous: { type: ["string", "null"], format: "uri" },
            results: items,
          },
          required: ["next", "previous", "results"],
          additionalProperties: false,
        },
      ]
    : [];
  return {
    oneOf: [
      plain,
      {
        type: "object",
        description: "With `?limit=`: DRF's LimitOffsetPagination envelope",
        properties: {
          count: { type: "integer" },
          next: { type: ["string", "null"], format: "uri" },
          previous: { type: ["string", "null"], format: "uri" },
          results: items,
        },
        required: ["count", "next", "previous", "results"],
      },
      ...byCursor,
    ],
  };
}

/** A named component by reference, an array of one, or the schema itself. */
function schemaRef(schema: z.ZodType): JsonSchema {
  const name = COMPONENTS.get(schema);
  if (name) return { $ref: `#/components/schemas/${name}` };
  if (schema instanceof z.ZodArray) return { type: "array", items: schemaRef(schema.element as z.ZodType) };
  return toWireSchema(convert(schema, "output"));
}

function procedureDef(path: string): { inputs: z.ZodType[]; output: z.ZodType | undefined } {
  const procedure = (
    appRouter._def.procedures as unknown as Record<string, { _def: { inputs: z.ZodType[]; output?: z.ZodType } }>
  )[path];
  if (!procedure) throw new Error(`no procedure ${path}`);
  return { inputs: procedure._def.inputs, output: procedure._def.output };
}

/** A procedure's inputs (the role middleware's and its own) as one object schema. */
function mergedInput(inputs: z.ZodType[], io: "input" | "output"): JsonSchema {
  const merged: JsonSchema = { type: "object", properties: {}, required: [] };
  for (const input of inputs) {
    const schema = convert(input, io);
    Object.assign(merged.properties as object, schema.properties ?? {});
    (merged.required as string[]).push(...((schema.required ?? []) as string[]));
  }
  return merged;
}

function convert(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const json = z.toJSONSchema(schema, { io, target: "draft-2020-12", unrepresentable: "any" }) as JsonSchema;
  delete json.$schema;
  return json;
}

/** The input field behind a wire name (`user` → `userId`). */
function fieldFor(wire: string, properties: Record<string, unknown>): string {
  return Object.keys(properties).find((field) => wireName(field) === wire) ?? wire;
}

/** Renames object properties (and `required`) to wire names, all the way down. */
export function toWireSchema(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "properties" && value && typeof value === "object") {
      out.properties = Object.fromEntries(
        Object.entries(value).map(([name, inner]) => [wireName(name), toWireSchema(inner as JsonSchema)]),
      );
    } else if (key === "required" && Array.isArray(value)) {
      out.required = value.map((name) => wireName(String(name)));
    } else if (Array.isArray(value)) {
      out[key] = value.map((item) => (item && typeof item === "object" ? toWireSchema(item as JsonSchema) : item));
    } else if (value && typeof value === "object") {
      out[key] = toWireSchema(value as JsonSchema);
    } else {
      out[key] = value;
    }
  }
  return out;
}
