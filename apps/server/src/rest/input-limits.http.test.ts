import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import { cursor, NULL_CHARACTERS, tenantRef } from "../schemas.js";
import { type Json, RestClient, type RestTenant, signUpRest, statusOf, superuserRest } from "../test-support/rest.js";
import { startTestServer, type TestServer } from "../test-support/server.js";
import { appRouter } from "../trpc/router.js";
import { fieldName } from "./names.js";
import { REST_ROUTES } from "./routes.js";

/**
 * Every string and every number a caller can send, found by walking the
 * procedures' own input schemas: a string PostgreSQL cannot hold (a NUL, a
 * lone surrogate) is refused on its field, or matches nothing where it names
 * something; every number has bounds. A new field that skips the schema
 * building blocks fails here.
 */
type Schema = z.ZodType & { _zod: { def: Record<string, unknown> & { type: string } } };
type FieldKind = "text" | "lookup" | "other";

const procedures = appRouter._def.procedures as unknown as Record<
  string,
  { _def: { type: "query" | "mutation"; inputs: Schema[] } }
>;

/** The schemas a field is made of, through optional, default, preprocess and pipes. */
function leaves(schema: Schema): Schema[] {
  const def = schema._zod.def;
  if (schema === (tenantRef as unknown) || schema === (cursor as unknown)) return [schema];
  if (def.type === "pipe") return [...leaves(def.in as Schema), ...leaves(def.out as Schema)];
  if (def.innerType) return leaves(def.innerType as Schema);
  return [schema];
}

function kindOf(field: Schema): FieldKind {
  const parts = leaves(field);
  // A cursor names a position as a tenant reference names a tenant: decoded, never stored.
  if (parts.includes(tenantRef as unknown as Schema) || parts.includes(cursor as unknown as Schema)) return "lookup";
  if (parts.some((part) => part._zod.def.type === "string" && !part._zod.def.format)) return "text";
  return "other";
}

/** Every input field of a procedure (the role middleware's `tenant` included), by name. */
function inputFields(path: string): Map<string, Schema> {
  const fields = new Map<string, Schema>();
  for (const input of procedures[path]?._def.inputs ?? []) {
    for (const object of leaves(input)) {
      for (const [name, field] of Object.entries((object._zod.def.shape ?? {}) as Record<string, Schema>)) {
        fields.set(name, field);
      }
    }
  }
  return fields;
}

const SURROGATE_MESSAGE = "Surrogate characters are not allowed: U+D800.";
/** The values injected, with what a text field answers for each. */
const UNSTORABLE: [string, string[]][] = [
  ["a\u0000b", [NULL_CHARACTERS]],
  ["\u0000", [NULL_CHARACTERS]],
  ["ab\ud800", [SURROGATE_MESSAGE]],
  ["\udc00x", ["Surrogate characters are not allowed: U+DC00."]],
  ["\u0000\ud800", [NULL_CHARACTERS, SURROGATE_MESSAGE]],
];
const UNKNOWN_TENANT = "no-such-tenant-anywhere";
/** What a lookup key becomes: the characters PostgreSQL cannot hold, U+FFFD. */
const asLookedUp = (value: string) => value.replaceAll("\u0000", "\ufffd").replace(/[\ud800-\udfff]/g, "\ufffd");

describe("every input field, from the procedures' schemas", () => {
  it("refuses a NUL or a lone surrogate in every text field with DRF's message, before any other check", () => {
    const problems: string[] = [];
    let checked = 0;
    for (const path of Object.keys(procedures)) {
      for (const [name, field] of inputFields(path)) {
        const kind = kindOf(field);
        if (kind !== "text") continue;
        for (const [value, messages] of UNSTORABLE) {
          checked += 1;
          const result = field.safeParse(value);
          const got = result.success ? "accepted" : result.error.issues.map((issue) => issue.message);
          if (JSON.stringify(got) !== JSON.stringify(messages)) {
            problems.push(`${path} ${name}=${JSON.stringify(value)}: ${JSON.stringify(got)}`);
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(problems, problems.join("\n")).toEqual([]);
  });

  it("makes a lookup key with such characters name nothing PostgreSQL cannot hold", () => {
    let lookups = 0;
    for (const path of Object.keys(procedures)) {
      for (const [name, field] of inputFields(path)) {
        if (kindOf(field) !== "lookup") continue;
        for (const [value] of UNSTORABLE) {
          lookups += 1;
          const parsed = field.parse(value) as string;
          expect(parsed.includes("\u0000") || /[\ud800-\udfff]/.test(parsed), `${path} ${name}`).toBe(false);
          expect(parsed, `${path} ${name}`).toContain("\ufffd");
        }
      }
    }
    expect(lookups).toBeGreaterThan(50);
  });

  it("bounds every number field (finite minimum and an explicit maximum)", () => {
    const bounds: string[] = [];
    const problems: string[] = [];
    for (const path of Object.keys(procedures)) {
      for (const [name, field] of inputFields(path)) {
        for (const leaf of leaves(field)) {
          if (leaf._zod.def.type !== "number") continue;
          const { minValue, maxValue } = leaf as unknown as z.ZodNumber;
          bounds.push(`${path}.${name}: ${minValue}..${maxValue}`);
          // `.int()` alone caps at 2^53 - 1: that is no bound anything downstream was built for.
          const bounded =
            Number.isFinite(minValue) && Number.isFinite(maxValue) && (maxValue ?? 0) < Number.MAX_SAFE_INTEGER;
          if (!bounded) problems.push(`${path}.${name}: ${minValue}..${maxValue}`);
        }
      }
    }
    expect(bounds).toContain("ops.purgeInvitations.olderThanDays: 0..36500");
    expect(bounds).toContain("invite.extend.days: 1..30");
    expect(bounds).toContain("invite.page.offset: 0..2147483647");
    expect(problems, problems.join("\n")).toEqual([]);
  });
});

describe("unstorable strings and out-of-range numbers over the wire", () => {
  let server: TestServer;
  let api: RestClient;
  let acme: RestTenant;
  let staff: { token: string };
  beforeAll(async () => {
    server = await startTestServer({ env: { THROTTLE: "off" } });
    api = new RestClient(server.url);
    acme = await signUpRest(api);
    staff = await superuserRest(server, api);
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** The same call over REST, with `value` in one wire field (body or query). */
  async function restCall(route: (typeof REST_ROUTES)[number], wire: string, value: string, token: string) {
    const path = route.path.replace("{id}", randomUUID());
    const inQuery = route.query?.includes(wire);
    if (inQuery) return api.call(route.method, `${path}?${wire}=${encodeURIComponent(value)}`, { token });
    return api.call(route.method, path, { json: { [wire]: value }, token });
  }

  it("answers every REST field: 400 on the field for text, as for an unknown tenant for `tenant`, never 500", async () => {
    const problems: string[] = [];
    let cases = 0;
    for (const route of REST_ROUTES) {
      const fields = inputFields(route.procedure);
      const wires = [...(route.body ?? []), ...Object.keys(route.bodyAliases ?? {}), ...(route.query ?? [])];
      for (const wire of wires) {
        const target = route.bodyAliases?.[wire] ?? wire;
        const field = fields.get(fieldName(target));
        if (!field) throw new Error(`${route.path}: no input field for ${wire}`);
        const kind = kindOf(field);
        // Superusers' routes check the caller before the input: a tenant admin never gets that far.
        const tokens = route.procedure.startsWith("ops.") ? [staff.token] : [staff.token, acme.adminToken];
        for (const token of tokens) {
          const unknown = kind === "lookup" ? await restCall(route, wire, UNKNOWN_TENANT, token) : undefined;
          for (const [value, messages] of UNSTORABLE) {
            // A URL cannot carry half a surrogate pair (the test below sends the bytes that would be one).
            if (route.query?.includes(wire) && /[\ud800-\udfff]/.test(value)) continue;
            cases += 1;
            const reply = await restCall(route, wire, value, token);
            const what = `${route.method} ${route.path} ${wire}=${JSON.stringify(value)} -> ${reply.status} ${reply.text}`;
            if (kind === "text") {
              if (reply.status !== 400 || JSON.stringify(reply.body?.[wire]) !== JSON.stringify(messages)) {
                problems.push(what);
              }
            } else if (kind === "lookup") {
              const same =
                reply.status === unknown?.status &&
                reply.text.replaceAll(asLookedUp(value), "?") === unknown.text.replaceAll(UNKNOWN_TENANT, "?");
              if (!same) problems.push(`${what} (unknown tenant: ${unknown?.status} ${unknown?.text})`);
            } else if (reply.status !== 400 || !Array.isArray(reply.body?.[wire])) {
              problems.push(what);
            }
          }
        }
      }
    }
    expect(cases).toBeGreaterThan(200);
    expect(problems, problems.join("\n")).toEqual([]);
  });

  it("answers a superuser's `tenant` with a NUL as it answers any unknown tenant, echoing U+FFFD", async () => {
    const listed = await api.get("/api/users/?tenant=ab%00", { token: staff.token });
    expect(listed.status, statusOf(listed)).toBe(400);
    expect(listed.body).toEqual({ tenant: ['Invalid tenant "ab\ufffd" - object does not exist.'] });
    const invite = await api.post(
      "/api/users/invite/",
      { email: "someone@input-limits.example.com", tenant: "\ud800" },
      { token: staff.token },
    );
    expect(invite.status, statusOf(invite)).toBe(400);
    expect(invite.body).toEqual({ tenant: ['Invalid tenant "\ufffd" - object does not exist.'] });
    // A member's `?tenant=` never widens scope, whatever it holds.
    const own = await api.get("/api/users/", { token: acme.adminToken });
    const filtered = await api.get("/api/users/?tenant=%00", { token: acme.adminToken });
    expect(filtered.status, statusOf(filtered)).toBe(200);
    expect(filtered.body).toEqual(own.body);
    // Login naming a tenant that cannot exist fails as a wrong password does.
    for (const tenant of ["\u0000", "\ud800"]) {
      const login = await api.post("/api/auth/login/", { email: acme.adminEmail, password: "whatever-it-is", tenant });
      expect(login.status, statusOf(login)).toBe(400);
      expect(login.body).toEqual({ non_field_errors: ["Unable to log in with provided credentials."] });
    }
  });

  it("answers a NUL in a path id or a query string that cannot be UTF-8 with 404 or 400, never 500", async () => {
    for (const route of REST_ROUTES) {
      if (route.id) {
        const reply = await api.call(route.method, route.path.replace("{id}", "ab%00cd"), { token: staff.token });
        expect(reply.status, statusOf(reply)).toBe(404);
        expect(reply.body).toEqual({ detail: "Not found." });
      }
      for (const wire of route.query ?? []) {
        const reply = await api.call(route.method, `${route.path.replace("{id}", randomUUID())}?${wire}=%ED%A0%80`, {
          token: staff.token,
        });
        expect(reply.status, statusOf(reply)).toBeLessThan(500);
      }
    }
  });

  it("answers every tRPC procedure's string fields with the same messages in data.fieldErrors, never 500", async () => {
    const problems: string[] = [];
    let cases = 0;
    for (const [path, procedure] of Object.entries(procedures)) {
      for (const [name, field] of inputFields(path)) {
        const kind = kindOf(field);
        const call = async (value: string) => {
          const input = JSON.stringify({ [name]: value });
          const response =
            procedure._def.type === "query"
              ? await fetch(`${server.url}/trpc/${path}?input=${encodeURIComponent(input)}`, {
                  headers: { authorization: `Bearer ${staff.token}` },
                })
              : await fetch(`${server.url}/trpc/${path}`, {
                  method: "POST",
                  headers: { authorization: `Bearer ${staff.token}`, "content-type": "application/json" },
                  body: input,
                });
          return { status: response.status, body: (await response.json()) as Json };
        };
        const unknown = kind === "lookup" ? await call(UNKNOWN_TENANT) : undefined;
        for (const [value, messages] of UNSTORABLE) {
          cases += 1;
          const { status, body } = await call(value);
          const what = `${path} ${name}=${JSON.stringify(value)} -> ${status} ${JSON.stringify(body)}`;
          const errors = body.error?.data?.fieldErrors?.[name];
          if (status >= 500) problems.push(what);
          else if (kind === "text" && (status !== 400 || JSON.stringify(errors) !== JSON.stringify(messages))) {
            problems.push(what);
          } else if (
            kind === "lookup" &&
            (status !== unknown?.status || body.error?.data?.code !== unknown?.body.error?.data?.code)
          ) {
            problems.push(`${what} (unknown tenant: ${unknown?.status})`);
          } else if (kind === "other" && (status !== 400 || !Array.isArray(errors))) {
            problems.push(what);
          }
        }
      }
    }
    expect(cases).toBeGreaterThan(150);
    expect(problems, problems.join("\n")).toEqual([]);
  });

  it("refuses a purge age past 36500 days on the field instead of failing on an invalid date", async () => {
    for (const olderThanDays of [100_000_000, 36_501, "99999999999999999999"]) {
      const reply = await api.post(
        "/api/ops/invitations/purge-expired/",
        { older_than_days: olderThanDays, dry_run: true },
        { token: staff.token },
      );
      expect(reply.status, statusOf(reply)).toBe(400);
      expect(reply.body).toEqual({ older_than_days: ["Ensure this value is less than or equal to 36500."] });
    }
    const trpc = await fetch(`${server.url}/trpc/ops.purgeInvitations`, {
      method: "POST",
      headers: { authorization: `Bearer ${staff.token}`, "content-type": "application/json" },
      body: JSON.stringify({ olderThanDays: 100_000_000 }),
    });
    expect(trpc.status).toBe(400);
    const body = (await trpc.json()) as Json;
    expect(body.error.data.fieldErrors).toEqual({
      olderThanDays: ["Ensure this value is less than or equal to 36500."],
    });
    const longest = await api.post(
      "/api/ops/invitations/purge-expired/",
      { older_than_days: 36_500, dry_run: true },
      { token: staff.token },
    );
    expect(longest.status, statusOf(longest)).toBe(200);
    expect(longest.body).toMatchObject({ purged: 0, dry_run: true });
  });

  it("refuses an offset past 2147483647 on the field, and still answers a limit past 1000 as 1000", async () => {
    const far = await api.get("/api/users/?limit=10&offset=99999999999999999999", { token: acme.adminToken });
    expect(far.status, statusOf(far)).toBe(400);
    expect(far.body).toEqual({ offset: ["Ensure this value is less than or equal to 2147483647."] });
    const last = await api.get("/api/users/?limit=10&offset=2147483647", { token: acme.adminToken });
    expect(last.status, statusOf(last)).toBe(200);
    expect(last.body.results).toEqual([]);
    const capped = await api.get("/api/users/?limit=5000", { token: acme.adminToken });
    expect(capped.status, statusOf(capped)).toBe(200);
    expect(capped.body.next).toBeNull();
  });
});
