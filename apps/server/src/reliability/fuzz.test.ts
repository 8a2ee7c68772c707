import { mkdirSync, writeFileSync } from "node:fs";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { brokenInvariants, changedScopes, type Query, rowDigests } from "../test-support/invariants.js";
import { PASSWORD, RestClient, statusOf, superuserRest, uniqueName } from "../test-support/rest.js";
import { startTestServer, type TestServer } from "../test-support/server.js";
import {
  described,
  oddPathRequest,
  type Pools,
  requestFor,
  restEndpoints,
  trpcEndpoints,
  type WireRequest,
} from "./wire.js";

/**
 * Property-based fuzzing of every REST operation (from the OpenAPI document)
 * and every tRPC procedure (from the router), as every kind of caller.
 * Properties: never a 5xx; every error in the documented shape; a refused
 * request changes no row; a member of one tenant never sees or changes the
 * other's data; a cookie without Origin never changes anything.
 *
 * `npm test` runs a fixed seed; `npm run fuzz` runs many more cases
 * (FUZZ_RUNS, FUZZ_SEED). A failure is shrunk to a minimal request.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 1500);
const SEED = Number(process.env.FUZZ_SEED ?? 20261215);
/** Tenant A's users never use a password the generators know: nobody can log in as them by chance. */
const SECRET_PASSWORD = "only-the-fixture-Knows-7";
const resultsDir = new URL("../../../../.test-results/", import.meta.url).pathname;

type CallerName = "anonymous" | "viewerA" | "adminA" | "adminB" | "superuser" | "cookieNoOrigin";
const CALLERS: CallerName[] = ["anonymous", "viewerA", "adminA", "adminB", "superuser", "cookieNoOrigin"];

interface Tenant {
  id: string;
  slug: string;
  /** Everything of the tenant that no outsider should read in an answer. */
  markers: string[];
}

describe("fuzzing every endpoint", () => {
  let server: TestServer;
  let api: RestClient;
  let query: Query;
  const tokens = {} as Record<Exclude<CallerName, "anonymous" | "cookieNoOrigin">, string>;
  const logins = {} as Record<string, { email: string; password: string; tenant?: string }>;
  let tenantA: Tenant;
  let tenantB: Tenant;
  let pools: Pools;

  async function login(caller: string): Promise<string> {
    const credentials = logins[caller];
    if (!credentials) throw new Error(`no login for ${caller}`);
    const reply = await api.post("/api/auth/login/", credentials);
    if (reply.status !== 200) throw new Error(statusOf(reply));
    return reply.body.token;
  }

  /** A tenant with an admin, a member of `memberRole` and a pending invitation. */
  async function tenant(password: string, memberRole: string) {
    const name = uniqueName("Fuzz");
    const adminEmail = `admin@${name.toLowerCase()}.example.com`;
    const created = await api.post("/api/tenants/", { name, admin_email: adminEmail, admin_password: password });
    if (created.status !== 201) throw new Error(statusOf(created));
    const adminToken = (await api.post("/api/auth/login/", { email: adminEmail, password })).body.token;
    const memberEmail = `member@${name.toLowerCase()}.example.com`;
    const invited = await api.post(
      "/api/users/invite/",
      { email: memberEmail, role: memberRole },
      { token: adminToken },
    );
    const accepted = await api.post("/api/users/accept-invite/", { token: invited.body.token, password });
    if (accepted.status !== 201) throw new Error(statusOf(accepted));
    const pending = await api.post(
      "/api/users/invite/",
      { email: `pending@${name.toLowerCase()}.example.com`, role: "ANALYST" },
      { token: adminToken },
    );
    const roles = await api.get("/api/user-roles/", { token: adminToken });
    const tenantInfo: Tenant = {
      id: created.body.id,
      slug: created.body.slug,
      markers: [
        created.body.id,
        created.body.slug,
        name,
        adminEmail,
        created.body.admin_user_id,
        memberEmail,
        accepted.body.id,
        pending.body.id,
        pending.body.email,
        ...roles.body.map((role: { id: string }) => role.id),
      ],
    };
    return {
      tenant: tenantInfo,
      adminEmail,
      memberEmail,
      adminToken,
      pendingToken: pending.body.token as string,
      ids: [
        created.body.admin_user_id,
        accepted.body.id,
        pending.body.id,
        ...roles.body.map((r: { id: string }) => r.id),
      ],
    };
  }

  beforeAll(async () => {
    server = await startTestServer({ env: { THROTTLE: "off", WEBHOOK_TIMEOUT_SECONDS: "1" } });
    // No background worker changes rows between one request and the next.
    await server.services.stop();
    api = new RestClient(server.url);
    query = (sql) => server.db.orm.em.getConnection().execute(sql);
    const a = await tenant(SECRET_PASSWORD, "VIEWER");
    const b = await tenant(PASSWORD, "ANALYST");
    const staff = await superuserRest(server, api);
    tenantA = a.tenant;
    tenantB = b.tenant;
    // With the tenant named: the run may sign other tenants up with the same addresses.
    logins.viewerA = { email: a.memberEmail, password: SECRET_PASSWORD, tenant: tenantA.slug };
    logins.adminA = { email: a.adminEmail, password: SECRET_PASSWORD, tenant: tenantA.slug };
    logins.adminB = { email: b.adminEmail, password: PASSWORD, tenant: tenantB.slug };
    logins.superuser = { email: staff.user.email, password: PASSWORD };
    tokens.viewerA = await login("viewerA");
    tokens.adminA = a.adminToken;
    tokens.adminB = b.adminToken;
    tokens.superuser = staff.token;
    pools = {
      // Tenant A's pending invitation token is not in the pools (nobody outside may accept it).
      ids: [...a.ids, ...b.ids, staff.user.id],
      emails: [a.adminEmail, a.memberEmail, b.adminEmail, b.memberEmail, staff.user.email],
      passwords: [PASSWORD, "short", "x".repeat(4096)],
      tenantRefs: [tenantA.id, tenantA.slug, tenantB.id, tenantB.slug],
      tokens: [b.pendingToken, tokens.adminB],
    };
  });
  afterAll(async () => {
    await server?.stop();
  });

  function headersOf(caller: CallerName): Record<string, string> {
    if (caller === "anonymous") return {};
    if (caller === "cookieNoOrigin") return { cookie: `session=${tokens.adminA}` };
    return { authorization: `Bearer ${tokens[caller]}` };
  }

  async function send(request: WireRequest, caller: CallerName) {
    const response = await fetch(`${server.url}${request.path}`, {
      method: request.method,
      headers: { ...request.headers, ...headersOf(caller) },
      body: request.body,
      redirect: "manual",
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { status: response.status, text, body };
  }

  it(
    "answers every generated request without a 5xx, in the documented shape, changing nothing it refused",
    async () => {
      const endpoints = [...restEndpoints(), ...trpcEndpoints()];
      expect(endpoints.length).toBeGreaterThan(60);
      const request = fc
        .oneof(
          { weight: 20, arbitrary: fc.oneof(...endpoints.map((endpoint) => requestFor(endpoint, pools))) },
          { weight: 1, arbitrary: oddPathRequest },
        )
        .map(described);
      const statuses = new Map<number, number>();
      const covered = new Set<string>();
      let cases = 0;
      let digests = await rowDigests(query);

      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...CALLERS), request, async (caller, wire) => {
          cases += 1;
          const reply = await send(wire, caller);
          statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
          covered.add(wire.endpoint);
          const after = await rowDigests(query);
          const changed = changedScopes(digests, after);
          digests = after;
          const what = `${caller} ${wire.method} ${wire.path.slice(0, 200)} [${wire.mutation}] -> ${reply.status} ${reply.text.slice(0, 300)}`;

          expect(reply.status, what).toBeLessThan(500);
          const problem = shapeProblem(wire, reply);
          expect(problem, what).toBeUndefined();
          if (reply.status >= 400) expect(changed, `a refused request changed rows: ${what}`).toEqual([]);
          const unsafe = !["GET", "HEAD", "OPTIONS"].includes(wire.method);
          if (caller === "cookieNoOrigin" && unsafe)
            expect(reply.status >= 200 && reply.status < 300, what).toBe(false);

          // Tenant isolation: an outsider neither reads nor changes the other tenant.
          const outsideOf: Tenant | undefined =
            caller === "adminB" || caller === "anonymous"
              ? tenantA
              : caller === "adminA" || caller === "viewerA"
                ? tenantB
                : undefined;
          // Logging in, or previewing or accepting an invitation, with someone's credentials (a password,
          // an invitation token) shows that someone: the token is the capability, so no leak.
          const credentialed = reply.status < 300 && /login|accept|preview/.test(wire.endpoint);
          if (outsideOf && !credentialed) {
            const asked = `${safeDecode(wire.path)} ${wire.body ?? ""}`;
            const revealed = outsideOf.markers.filter(
              (marker) => reply.text.includes(marker) && !asked.includes(marker),
            );
            expect(revealed, `revealed the other tenant: ${what}`).toEqual([]);
            expect(changed, `changed the other tenant: ${what}`).not.toContain(outsideOf.id);
          }

          // A caller who logged themselves out logs in again, so the run keeps its callers.
          if (reply.status < 300 && /logout/.test(wire.path) && caller !== "anonymous" && caller !== "cookieNoOrigin") {
            tokens[caller] = await login(caller);
            digests = await rowDigests(query);
          }
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: process.env.FUZZ_SHRINK === "off" },
      );

      expect(await brokenInvariants(query)).toEqual([]);
      // Most endpoints are reached with every run of this size.
      expect(covered.size).toBeGreaterThan(endpoints.length * 0.8);
      mkdirSync(resultsDir, { recursive: true });
      writeFileSync(
        `${resultsDir}fuzz.json`,
        JSON.stringify(
          {
            seed: SEED,
            cases,
            endpoints: endpoints.length,
            covered: covered.size,
            statuses: Object.fromEntries(statuses),
          },
          null,
          2,
        ),
      );
    },
    Math.max(900_000, RUNS * 50),
  );
});

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** What is wrong with an error answer's shape, if anything (API.md: DRF's shapes on REST, tRPC's envelope on /trpc). */
function shapeProblem(
  request: WireRequest,
  reply: { status: number; body: unknown; text: string },
): string | undefined {
  if (reply.status < 400 || request.method === "HEAD") return undefined;
  const path = request.path;
  if (path.startsWith("/trpc/")) {
    const items = Array.isArray(reply.body) ? reply.body : [reply.body];
    for (const item of items as Record<string, unknown>[]) {
      if (item && typeof item === "object" && "result" in item) continue;
      const error = (item as { error?: Record<string, unknown> } | undefined)?.error;
      const data = error?.data as Record<string, unknown> | undefined;
      if (
        typeof error?.message !== "string" ||
        typeof error.code !== "number" ||
        typeof data?.code !== "string" ||
        typeof data.httpStatus !== "number" ||
        typeof data.fieldErrors !== "object"
      ) {
        return `not a tRPC error: ${reply.text.slice(0, 200)}`;
      }
    }
    return undefined;
  }
  if (!path.startsWith("/api/")) return undefined;
  const body = reply.body as Record<string, unknown> | undefined;
  if (!body || typeof body !== "object" || Array.isArray(body)) return `not a JSON object: ${reply.text.slice(0, 200)}`;
  const keys = Object.keys(body);
  if (keys.length === 1 && typeof body.detail === "string") return undefined;
  const fieldErrors =
    keys.length > 0 &&
    Object.values(body).every(
      (messages) => Array.isArray(messages) && messages.length > 0 && messages.every((m) => typeof m === "string"),
    );
  return fieldErrors ? undefined : `neither {detail} nor field errors: ${reply.text.slice(0, 200)}`;
}
