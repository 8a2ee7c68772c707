import fc from "fast-check";
import { z } from "zod";
import { buildOpenApiDocument } from "../rest/openapi.js";
import { appRouter } from "../trpc/router.js";

/**
 * Requests for the fuzz suite, generated from what the server itself
 * publishes: the REST operations of the OpenAPI document and the tRPC
 * procedures of the router with their zod input schemas. A new endpoint is
 * fuzzed without anyone writing a case for it.
 */
type JsonSchema = Record<string, unknown> & {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  enum?: unknown[];
  items?: JsonSchema;
};

export interface WireRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** Which endpoint it was generated for (REST `METHOD /path`, `trpc <procedure>`, or `odd path`). */
  endpoint: string;
  /** How the request was spoiled, if it was. */
  mutation: string;
}

/** Values worth having in the pools: the fixture's real ids, emails, tokens and tenant refs. */
export interface Pools {
  ids: string[];
  emails: string[];
  passwords: string[];
  tenantRefs: string[];
  tokens: string[];
}

export interface Endpoint {
  name: string;
  method: string;
  /** With `{id}` where the path parameter goes. */
  path: string;
  kind: "rest" | "trpc";
  queryParams: Record<string, JsonSchema>;
  body?: JsonSchema;
}

/** Every REST operation of the OpenAPI document. */
export function restEndpoints(): Endpoint[] {
  const document = buildOpenApiDocument("fuzz") as {
    paths: Record<string, Record<string, { parameters?: JsonSchema[]; requestBody?: JsonSchema }>>;
  };
  const endpoints: Endpoint[] = [];
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const queryParams: Record<string, JsonSchema> = {};
      for (const parameter of operation.parameters ?? []) {
        if (parameter.in === "query") queryParams[String(parameter.name)] = parameter.schema as JsonSchema;
      }
      const content = (operation.requestBody?.content ?? {}) as Record<string, { schema: JsonSchema }>;
      endpoints.push({
        name: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        kind: "rest",
        queryParams,
        body: content["application/json"]?.schema,
      });
    }
  }
  return endpoints;
}

type Procedure = { _def: { type: "query" | "mutation" | "subscription"; inputs: z.ZodType[] } };

/** Every tRPC procedure, with its input as a JSON schema (the union of its input parsers' fields). */
export function trpcEndpoints(): Endpoint[] {
  const procedures = appRouter._def.procedures as unknown as Record<string, Procedure>;
  return Object.entries(procedures).map(([name, procedure]) => {
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const input of procedure._def.inputs) {
      let schema: JsonSchema;
      try {
        schema = z.toJSONSchema(input, { io: "input", unrepresentable: "any" }) as JsonSchema;
      } catch {
        schema = {};
      }
      Object.assign(properties, schema.properties ?? {});
      required.push(...(schema.required ?? []));
    }
    const query = procedure._def.type === "query";
    return {
      name: `trpc ${name}`,
      method: query ? "GET" : "POST",
      path: `/trpc/${name}`,
      kind: "trpc" as const,
      queryParams: {},
      body: { type: "object", properties, required },
    };
  });
}

const NASTY_STRINGS = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\u202eevil\u202c",
  "\u200f\u0627\u0644\u0639\u0631\u0628\u064a\u0629",
  `e${"\u0301".repeat(200)}`,
  "\ud83d\ude00\ud83c\udff3\ufe0f\u200d\ud83c\udf08",
  "\ud800",
  "x\udfff",
  "\ufeff",
  "\r\n\t",
  "null",
  "undefined",
  "<script>alert(1)</script>",
  "' or 1=1 --",
  "../../etc/passwd",
  "%00",
  "%s%n",
  "#{7*7}{{7*7}}",
  "__proto__",
  "constructor",
  "ADMIN ",
  "admin",
  "1e400",
  "-0",
  "00000000-0000-0000-0000-000000000000",
  "ffffffff-ffff-ffff-ffff-ffffffffffff",
  "FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF",
];

/** Strings nobody writes a test with: NULs, RTL marks, combining marks, lone surrogates, huge ones. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom("a", "\u00e9", "\u0301", "\ud83d\ude00", "\u0000"), fc.constantFrom(255, 4097, 20_000))
      .map(([unit, times]) => unit.repeat(times)),
  },
);

/** A JSON value of any type, for putting where another type belongs. */
const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 2147483648, Number.MAX_SAFE_INTEGER, [], {}, [null], { a: 1 }),
  nastyString,
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
);

/** A value that fits the schema, drawn from the pools where the field names what it holds. */
export function validValue(schema: JsonSchema, field: string, pools: Pools): fc.Arbitrary<unknown> {
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map((part) => validValue(part, field, pools)));
  if (schema.enum) return fc.constantFrom(...schema.enum);
  switch (schema.type) {
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "integer":
    case "number": {
      const min = typeof schema.minimum === "number" ? schema.minimum : -1000;
      const max = typeof schema.maximum === "number" ? schema.maximum : 1000;
      return fc.oneof(fc.constantFrom(min, max), fc.integer({ min: Math.max(min, -1e9), max: Math.min(max, 1e9) }));
    }
    case "array":
      return fc.array(validValue(schema.items ?? {}, field, pools), {
        maxLength: Math.min(typeof schema.maxItems === "number" ? schema.maxItems : 4, 4),
      });
    case "object": {
      const properties = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      return fc.record(
        Object.fromEntries(Object.entries(properties).map(([name, part]) => [name, validValue(part, name, pools)])),
        { requiredKeys: Object.keys(properties).filter((name) => required.has(name)) },
      );
    }
    case "string":
      return validString(schema, field.toLowerCase(), pools);
    default:
      return anyJson;
  }
}

function validString(schema: JsonSchema, field: string, pools: Pools): fc.Arbitrary<string> {
  const from = (values: string[]) => (values.length ? fc.constantFrom(...values) : fc.uuid());
  if (schema.format === "uuid" || field === "user" || field === "id") return fc.oneof(from(pools.ids), fc.uuid());
  if (field.includes("email")) {
    return fc.oneof(
      from(pools.emails),
      fc.emailAddress(),
      fc.nat(1_000_000).map((n) => `fuzz${n}@fuzz.example.com`),
    );
  }
  if (field.includes("password")) return fc.oneof(from(pools.passwords), fc.string({ minLength: 1, maxLength: 30 }));
  if (field === "tenant") return fc.oneof(from(pools.tenantRefs), fc.string({ minLength: 1, maxLength: 20 }));
  if (field === "token") return fc.oneof(from(pools.tokens), fc.base64String({ minLength: 4, maxLength: 60 }));
  if (field === "url") {
    return fc.constantFrom("http://127.0.0.1:9/hook", "https://127.0.0.1:9/x", "ftp://example.com/", "http://[::1]:9/");
  }
  if (field === "since" || field === "until") {
    return fc.oneof(
      fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
      fc.constantFrom("2026-01-01", "yesterday", "0"),
    );
  }
  const max = Math.min(typeof schema.maxLength === "number" ? schema.maxLength : 40, 40);
  const min = Math.min(typeof schema.minLength === "number" ? schema.minLength : 0, max);
  return fc.string({ minLength: min, maxLength: max });
}

/** What a spoiled body looks like, with its content type. */
interface Body {
  text?: string;
  contentType?: string;
  mutation: string;
}

const DEEP = 10_000;

function bodyArbitrary(schema: JsonSchema | undefined, pools: Pools): fc.Arbitrary<Body> {
  const valid = (schema ? validValue(schema, "", pools) : fc.constant({})) as fc.Arbitrary<Record<string, unknown>>;
  const fields = Object.keys(schema?.properties ?? {});
  const json = (mutation: string) => (value: unknown) => ({ text: JSON.stringify(value), mutation });
  const field = fields.length ? fc.constantFrom(...fields) : fc.constantFrom("x");
  return fc.oneof(
    { weight: 6, arbitrary: valid.map(json("valid")) },
    {
      weight: 6,
      arbitrary: fc.tuple(valid, field, fc.oneof(anyJson, nastyString)).map(([body, name, value]) => ({
        text: JSON.stringify({ ...body, [name]: value }),
        mutation: `field ${name}`,
      })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(valid, field)
        .map(([body, name]) => ({ text: JSON.stringify({ ...body, [name]: undefined }), mutation: `without ${name}` })),
    },
    {
      weight: 1,
      arbitrary: valid.map((body) => ({
        text: `{"__proto__":{"isSuperuser":true,"is_superuser":true},"constructor":{"prototype":{"x":1}},${JSON.stringify(body).slice(1)}`,
        mutation: "prototype keys",
      })),
    },
    { weight: 1, arbitrary: valid.map((body) => ({ text: JSON.stringify([body]), mutation: "array for object" })) },
    { weight: 1, arbitrary: anyJson.map(json("scalar body")) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        { text: `${"[".repeat(DEEP)}${"]".repeat(DEEP)}`, mutation: "deep arrays" },
        { text: `${'{"a":'.repeat(DEEP)}1${"}".repeat(DEEP)}`, mutation: "deep objects" },
      ),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(valid, fc.nat()).map(([body, cut]) => {
        const text = JSON.stringify(body);
        return { text: text.slice(0, cut % Math.max(text.length, 1)), mutation: "truncated JSON" };
      }),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        { text: "{'email': 'x'}", mutation: "single quotes" },
        { text: '{"a":1,}', mutation: "trailing comma" },
        { text: '\ufeff{"a":1}', mutation: "byte order mark" },
        { text: '{"a":1}{"b":2}', mutation: "two documents" },
        { text: '{"email":"a@b.co","email":"c@d.co"}', mutation: "duplicate keys" },
        { text: "NaN", mutation: "NaN" },
        { text: '{"days":1e400}', mutation: "huge number" },
        { text: "", mutation: "empty JSON body" },
      ),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          valid,
          fc.constantFrom(
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/xml",
            "application/json; charset=latin1",
            "APPLICATION/JSON",
            "application/json-patch+json",
            "application/octet-stream",
            "",
          ),
        )
        .map(([body, contentType]) => ({ text: JSON.stringify(body), contentType, mutation: `type ${contentType}` })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(64 * 1024 + 1, 200_000).map((size) => ({
        text: JSON.stringify({ email: "x".repeat(size) }),
        mutation: `oversized ${size}`,
      })),
    },
    { weight: 1, arbitrary: fc.constant({ mutation: "no body" }) },
  );
}

const ODD_IDS = [
  "abc",
  "%00",
  "ab%00cd",
  "..%2F..%2Fetc%2Fpasswd",
  "%2e%2e",
  "%C0%AE",
  "%ED%A0%80",
  "%F0%9F%92%A9",
  "%E2%80%AE",
  "'",
  "%22%3E%3Cscript%3E",
  "a".repeat(3000),
  "{00000000-0000-0000-0000-000000000000}",
  "00000000-0000-0000-0000-00000000000",
  "-1",
  "0",
  "null",
  "%",
];

const ODD_QUERIES = [
  "?%",
  "?a=%ZZ",
  "?limit=abc",
  "?limit=1&limit=2",
  "?limit=0",
  "?limit=-1",
  "?limit=1e3",
  "?offset=-1",
  "?offset=1.5",
  "?limit=10&offset=99999999999999999999",
  "?tenant[]=x",
  "?tenant=",
  "?tenant=%00",
  "?tenant=%ED%A0%80",
  `?tenant=${"a".repeat(8000)}`,
  "?status=PENDING",
  "?since=2026-13-45",
  "?until=tomorrow",
  "?user=not-a-uuid",
  "?role=root",
  "?input=%7B",
  "?batch=1&input=%5B%5D",
  "?input=%7B%22tenant%22%3A%7B%7D%7D",
  "?&&&=&",
  "?__proto__[x]=1",
];

function queryArbitrary(params: Record<string, JsonSchema>, pools: Pools): fc.Arbitrary<{ qs: string; how: string }> {
  const names = Object.keys(params);
  const valid = fc
    .record(Object.fromEntries(names.map((name) => [name, validValue(params[name] ?? {}, name, pools)])), {
      requiredKeys: [],
    })
    .map((values) => {
      const search = new URLSearchParams();
      for (const [name, value] of Object.entries(values)) search.set(name, String(value));
      const text = search.toString();
      return { qs: text ? `?${text}` : "", how: "" };
    });
  const spoiled = fc
    .tuple(names.length ? fc.constantFrom(...names) : fc.constant("tenant"), nastyString)
    .map(([name, value]) => ({
      qs: `?${name}=${encodeURIComponent(value.replace(/[\ud800-\udfff]/g, ""))}`,
      how: `query ${name}`,
    }));
  return fc.oneof(
    { weight: 4, arbitrary: valid },
    { weight: 2, arbitrary: spoiled },
    { weight: 1, arbitrary: fc.constantFrom(...ODD_QUERIES).map((qs) => ({ qs, how: `query ${qs.slice(0, 40)}` })) },
  );
}

function idArbitrary(pools: Pools): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: pools.ids.length ? fc.constantFrom(...pools.ids) : fc.uuid() },
    { weight: 1, arbitrary: pools.tenantRefs.length ? fc.constantFrom(...pools.tenantRefs) : fc.uuid() },
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: fc.constantFrom(...ODD_IDS) },
  );
}

const METHODS = ["GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS", "HEAD"];

/** A request for one endpoint: its own method and a fitting body most of the time, anything else sometimes. */
export function requestFor(endpoint: Endpoint, pools: Pools): fc.Arbitrary<WireRequest> {
  const method = fc.oneof(
    { weight: 9, arbitrary: fc.constant(endpoint.method) },
    { weight: 1, arbitrary: fc.constantFrom(...METHODS) },
  );
  const path = endpoint.path.includes("{id}")
    ? idArbitrary(pools).map((id) => endpoint.path.replace("{id}", id))
    : fc.constant(endpoint.path);
  const pathShape = fc.oneof(
    { weight: 12, arbitrary: fc.constant((p: string) => p) },
    { weight: 1, arbitrary: fc.constant((p: string) => p.replace(/\/$/, "")) },
    { weight: 1, arbitrary: fc.constant((p: string) => p.replace("/api/", "/api//")) },
  );
  if (endpoint.kind === "trpc" && endpoint.method === "GET") {
    // A query's input rides in `?input=`: the same bodies, URL-encoded (those a URL can carry).
    return fc.tuple(method, bodyArbitrary(endpoint.body, pools), fc.boolean()).map(([chosen, body, batch]) => {
      const input = body.text === undefined ? "" : encodeURIComponent(body.text.replace(/[\ud800-\udfff]/g, "\ufffd"));
      const qs = batch
        ? `?batch=1&input=${encodeURIComponent('{"0":')}${input || "null"}%7D`
        : input
          ? `?input=${input}`
          : "";
      const name = endpoint.path.slice("/trpc/".length);
      return {
        method: chosen,
        path: `${batch ? `/trpc/${name},${name}` : endpoint.path}${qs}`,
        headers: {},
        endpoint: endpoint.name,
        mutation: `${batch ? "batch " : ""}${body.mutation}`,
      };
    });
  }
  return fc
    .tuple(method, path, pathShape, queryArbitrary(endpoint.queryParams, pools), bodyArbitrary(endpoint.body, pools))
    .map(([chosen, base, shape, query, body]) => {
      const headers: Record<string, string> = {};
      const sendsBody = chosen !== "GET" && chosen !== "HEAD" && body.text !== undefined;
      if (sendsBody && body.contentType !== "") headers["content-type"] = body.contentType ?? "application/json";
      return {
        method: chosen,
        path: `${shape(base)}${query.qs}`,
        headers,
        body: sendsBody ? body.text : undefined,
        endpoint: endpoint.name,
        mutation: [query.how, body.mutation].filter(Boolean).join(", "),
      };
    });
}

/** Shown short in a failure report (the request itself may be megabytes). */
export function described(request: WireRequest): WireRequest {
  return Object.assign(request, {
    [fc.toStringMethod]: () =>
      `${request.method} ${request.path.slice(0, 160)}${request.path.length > 160 ? `… (${request.path.length} chars)` : ""} ${JSON.stringify(request.headers)} body=${
        request.body === undefined
          ? "none"
          : `${JSON.stringify(request.body.slice(0, 200))}${request.body.length > 200 ? `… (${request.body.length} chars)` : ""}`
      } [${request.endpoint}: ${request.mutation.slice(0, 80)}]`,
  });
}

/** Paths no endpoint has, under both transports and outside them. */
export const oddPathRequest: fc.Arbitrary<WireRequest> = fc
  .tuple(
    fc.constantFrom(...METHODS),
    fc.oneof(
      fc.constantFrom(
        "/api/",
        "/api/nope/",
        "/api/users/me/extra/",
        "/api/%",
        "/api/%00/",
        "/api/users/%ED%A0%80/",
        "/trpc/",
        "/trpc/nope.nothing",
        "/trpc/user.me,nope",
        `/trpc/${"user.me,".repeat(400)}user.me`,
        "/trpc/__proto__",
        "/trpc/constructor.prototype",
        `/api/${"a/".repeat(2000)}`,
        "//api/users/",
        "/api/users/me/?format=api",
        "/readyz?x=%",
        "/docs/%2e%2e/",
        "/%",
      ),
      fc.webPath().map((p) => `/api${p}`),
    ),
  )
  .map(([method, path]) => ({ method, path, headers: {}, endpoint: "odd path", mutation: path.slice(0, 60) }));
