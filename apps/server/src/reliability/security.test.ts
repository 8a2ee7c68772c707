import { mkdirSync, writeFileSync } from "node:fs";
import { createInvitationToken, createSessionToken } from "@tenantry/auth";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REST_ROUTES, type RestRoute } from "../rest/routes.js";
import { type Query, rowDigests } from "../test-support/invariants.js";
import {
  addMemberRest,
  DETAIL,
  PASSWORD,
  type Reply,
  RestClient,
  type RestTenant,
  sessionCookie,
  signUpRest,
  statusOf,
  superuserRest,
} from "../test-support/rest.js";
import { startTestServer, type TestServer } from "../test-support/server.js";
import { DRF } from "../wording.js";
import { type Pools, trpcEndpoints, validValue } from "./wire.js";

/**
 * The security review, as tests: session fixation, the cookie's flags behind a
 * proxy, the CSRF origin check on every cookie-authenticated change, login
 * timing, response headers, the password hashing parameters, token entropy,
 * and no secret in a log line or an error body.
 */
const resultsDir = new URL("../../../../.test-results/", import.meta.url).pathname;
const figures: Record<string, unknown> = {};
const SESSION_TOKEN = /^([a-z2-9]{24})\.([a-z2-9]{24})$/;
const INVITATION_TOKEN = /^[A-Za-z0-9_-]{43}$/;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

describe("security review", () => {
  const logLines: string[] = [];
  /** Every answer of this server, to search for secrets at the end. */
  const replies: Reply[] = [];
  const secrets: Record<string, string> = {};
  let server: TestServer;
  let api: RestClient;
  let acme: RestTenant;
  let member: { user: { id: string }; token: string; invitation: { id: string; token: string } };
  let staff: { user: { id: string; email: string }; token: string };
  let ownOrigin: string;
  let query: Query;

  beforeAll(async () => {
    server = await startTestServer({ env: { THROTTLE: "off", LOG_LEVEL: "debug" }, logLines });
    api = new RestClient(server.url);
    ownOrigin = new URL(server.url).origin;
    query = (sql) => server.db.orm.em.fork().getConnection().execute(sql);
    acme = await signUpRest(api);
    member = await addMemberRest(api, acme.adminToken, "member@security.example.com", "VIEWER");
    staff = await superuserRest(server, api);
    Object.assign(secrets, { password: PASSWORD, admin: acme.adminToken, member: member.token, staff: staff.token });
  });
  afterAll(async () => {
    await server?.stop();
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(`${resultsDir}security.json`, JSON.stringify(figures, null, 2));
  });

  async function login(email: string, options: Parameters<RestClient["post"]>[2] = {}, password = PASSWORD) {
    const reply = await api.post("/api/auth/login/", { email, password }, options);
    replies.push(reply);
    return reply;
  }

  it("issues a new session on login even when the request carries a valid one, and the two stay independent", async () => {
    const first = await login(acme.adminEmail);
    const old = first.body.token as string;
    // Carrying the old session as a cookie (from our own origin) and as a bearer token.
    const viaCookie = await login(acme.adminEmail, { cookie: old, origin: ownOrigin });
    const viaBearer = await login(acme.adminEmail, { token: old });
    for (const reply of [viaCookie, viaBearer]) {
      expect(reply.status, statusOf(reply)).toBe(200);
      expect(reply.body.token).not.toBe(old);
      expect(reply.body.token.split(".")[0]).not.toBe(old.split(".")[0]);
      expect(sessionCookie(reply)?.value).toBe(reply.body.token);
    }
    const renewed = viaCookie.body.token as string;
    // Ending the new session leaves the old one working, and the other way round.
    const logout = await api.post("/api/auth/logout/", undefined, { token: renewed });
    expect(logout.status, statusOf(logout)).toBe(204);
    expect((await api.get("/api/users/me/", { token: renewed })).status).toBe(401);
    expect((await api.get("/api/users/me/", { cookie: old })).status).toBe(200);
    expect((await api.post("/api/auth/logout/", undefined, { token: old })).status).toBe(204);
    expect((await api.get("/api/users/me/", { token: old })).status).toBe(401);
    expect((await api.get("/api/users/me/", { token: viaBearer.body.token })).status).toBe(200);
    // The same over tRPC.
    const trpc = await fetch(`${server.url}/trpc/auth.login`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: `session=${viaBearer.body.token}`, origin: ownOrigin },
      body: JSON.stringify({ email: acme.adminEmail, password: PASSWORD }),
    });
    const trpcToken = ((await trpc.json()) as { result: { data: { token: string } } }).result.data.token;
    expect(trpcToken).not.toBe(viaBearer.body.token);
    expect((await api.get("/api/users/me/", { token: viaBearer.body.token })).status).toBe(200);
  });

  /** A plausible value for a REST body field, so that only the origin check can refuse the request. */
  function restValue(name: string): unknown {
    if (name === "emails") return ["csrf-bulk@security.example.com"];
    if (name.includes("email")) return "csrf@security.example.com";
    if (name.includes("password")) return "Another-strong-Pass-42";
    if (name === "role") return "ANALYST";
    if (name === "user") return member.user.id;
    if (name === "token") return member.invitation.token;
    if (name === "url") return "https://hooks.security.example.com/tenantry";
    if (name === "days") return 3;
    if (name === "tenant") return acme.tenant.slug;
    if (name === "dry_run") return false;
    if (name === "events") return ["invitation.created"];
    return "Changed";
  }

  it("refuses every cookie-authenticated change, REST and tRPC, without an Origin or from a foreign one, and changes nothing", async () => {
    const adminCookie = (await login(acme.adminEmail)).body.token as string;
    const staffCookie = (await login(staff.user.email)).body.token as string;
    const invited = await api.post(
      "/api/users/invite/",
      { email: "pending@security.example.com", role: "ANALYST" },
      { token: acme.adminToken },
    );
    const roles = await api.get("/api/user-roles/", { token: acme.adminToken });
    const hook = await api.post(
      "/api/ops/webhooks/",
      { url: "https://hooks.security.example.com/x" },
      { token: staff.token },
    );
    expect(hook.status, statusOf(hook)).toBe(201);
    // Nothing in the background changes rows while we compare.
    await server.services.stop();
    const idFor = (route: RestRoute): string => {
      if (route.id === "ref") return acme.tenant.slug;
      if (route.id === "session") return adminCookie.split(".")[0] ?? "";
      if (route.path.includes("/invitations/")) return invited.body.id;
      if (route.path.includes("/user-roles/")) return roles.body[0].id;
      if (route.path.includes("/webhooks/")) return hook.body.id;
      return member.user.id;
    };
    const pools: Pools = {
      ids: [member.user.id, invited.body.id, roles.body[0].id, hook.body.id, acme.tenant.id],
      emails: ["csrf@security.example.com"],
      passwords: ["Another-strong-Pass-42"],
      tenantRefs: [acme.tenant.slug],
      tokens: [member.invitation.token],
    };
    const before = await rowDigests(query);
    const checked: string[] = [];
    let requests = 0;
    // Without an Origin as the tenant's ADMIN; from a foreign origin as a superuser.
    for (const [cookie, origin] of [
      [adminCookie, undefined],
      [staffCookie, "https://evil.example.com"],
    ] as const) {
      for (const route of REST_ROUTES.filter((r) => r.method !== "GET")) {
        const path = route.path.replace("{id}", idFor(route));
        const json = route.body ? Object.fromEntries(route.body.map((name) => [name, restValue(name)])) : undefined;
        const reply = await api.call(route.method, path, { cookie, origin, json });
        requests += 1;
        expect(reply.status, `Origin ${origin}: ${statusOf(reply)}`).toBe(403);
        expect(reply.body).toEqual(DETAIL.csrf);
        checked.push(`${route.method} ${route.path}`);
      }
      for (const endpoint of trpcEndpoints().filter((e) => e.method === "POST")) {
        const [input] = fc.sample(validValue(endpoint.body ?? {}, "", pools), { numRuns: 1, seed: 7 });
        for (const path of [endpoint.path, `${endpoint.path},${endpoint.path.slice(6)}?batch=1`]) {
          const batch = path.includes("batch=1");
          const response = await fetch(`${server.url}${path}`, {
            method: "POST",
            headers: { "content-type": "application/json", cookie: `session=${cookie}`, ...(origin ? { origin } : {}) },
            body: JSON.stringify(batch ? { 0: input, 1: input } : input),
          });
          const body = (await response.json()) as unknown;
          requests += 1;
          expect(response.status, `${path} ${JSON.stringify(body)}`).toBe(403);
          for (const answer of batch ? (body as unknown[]) : [body]) {
            expect(answer).toMatchObject({
              error: { message: DRF.csrf, data: { code: "FORBIDDEN", httpStatus: 403 } },
            });
          }
        }
        checked.push(endpoint.name);
      }
    }
    const after = await rowDigests(query);
    expect([...after.entries()]).toEqual([...before.entries()]);
    const distinct = [...new Set(checked)];
    expect(distinct.filter((name) => name.startsWith("trpc ")).length).toBeGreaterThan(20);
    figures.csrf = {
      restChanges: distinct.filter((name) => !name.startsWith("trpc ")).length,
      trpcMutations: distinct.filter((name) => name.startsWith("trpc ")).length,
      requests,
    };
  });

  it("takes as long to refuse an unknown email as a wrong password (medians of 30, interleaved)", async () => {
    const PAIRS = 30;
    const unknown: number[] = [];
    const wrong: number[] = [];
    const time = async (email: string, into: number[]) => {
      const startedAt = performance.now();
      const reply = await login(email, {}, "Wrong-password-guess-9");
      into.push(performance.now() - startedAt);
      expect(reply.status, statusOf(reply)).toBe(400);
      expect(reply.body).toEqual(DETAIL.loginFailed);
    };
    // Warm-up: the first call of each kind pays for lazy set-up.
    await time("nobody@security.example.com", []);
    await time(acme.adminEmail, []);
    for (let n = 0; n < PAIRS; n += 1) {
      // Which goes first alternates, so that drift in the machine's load hits both alike.
      const pair: [string, number[]][] = [
        [`nobody-${n}@security.example.com`, unknown],
        [acme.adminEmail, wrong],
      ];
      if (n % 2) pair.reverse();
      for (const [email, into] of pair) await time(email, into);
    }
    const unknownMs = median(unknown);
    const wrongMs = median(wrong);
    const delta = unknownMs - wrongMs;
    // The noise band: 2 ms, or 15 % of the slower median on a loaded machine.
    const band = Math.max(2, 0.15 * Math.max(unknownMs, wrongMs));
    figures.loginTiming = {
      pairs: PAIRS,
      unknownEmailMedianMs: Math.round(unknownMs * 10) / 10,
      wrongPasswordMedianMs: Math.round(wrongMs * 10) / 10,
      deltaMs: Math.round(delta * 10) / 10,
      bandMs: Math.round(band * 10) / 10,
    };
    expect(Math.abs(delta), JSON.stringify(figures.loginTiming)).toBeLessThan(band);
  }, 60_000);

  it("hashes every password with Argon2id, m=19456 KiB, t=2, p=1", async () => {
    const users = (await query("select email, password_hash from users")) as { email: string; password_hash: string }[];
    expect(users.length).toBeGreaterThanOrEqual(3);
    for (const user of users) {
      expect(user.password_hash, user.email).toMatch(
        /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/,
      );
    }
    // Every hash has its own salt.
    const salts = users.map((user) => user.password_hash.split("$")[4]);
    expect(new Set(salts).size).toBe(salts.length);
  });

  it("gives session and invitation tokens at least 120 bits of entropy, and never the same one twice", () => {
    // Handed out by the server in these formats...
    expect(acme.adminToken).toMatch(SESSION_TOKEN);
    expect(member.invitation.token).toMatch(INVITATION_TOKEN);
    // ...which carry: a session's secret 24 symbols of a 32-symbol alphabet (5 bits each) = 120 bits
    // (its id another 120); an invitation token 43 base64url characters = 32 random bytes = 256 bits.
    const COUNT = 10_000;
    const sessions = Array.from({ length: COUNT }, () => createSessionToken());
    const invitations = Array.from({ length: COUNT }, () => createInvitationToken().token);
    expect(sessions.filter(({ token }) => !SESSION_TOKEN.test(token))).toEqual([]);
    expect(invitations.filter((token) => !INVITATION_TOKEN.test(token))).toEqual([]);
    expect(new Set(sessions.map((s) => s.secret)).size).toBe(COUNT);
    expect(new Set(sessions.map((s) => s.id)).size).toBe(COUNT);
    expect(new Set(invitations).size).toBe(COUNT);
    // Every symbol of the alphabet is about equally likely (a biased mapping would lose bits).
    const counts = new Map<string, number>();
    for (const { secret } of sessions) for (const symbol of secret) counts.set(symbol, (counts.get(symbol) ?? 0) + 1);
    expect(counts.size).toBe(32);
    const expected = (COUNT * 24) / 32;
    const skew = Math.max(...[...counts.values()].map((count) => Math.abs(count - expected) / expected));
    expect(skew).toBeLessThan(0.06);
    const bits = (alphabet: number, length: number) => Math.floor(length * Math.log2(alphabet));
    figures.tokenEntropyBits = { sessionSecret: bits(32, 24), sessionId: bits(32, 24), invitation: 256 };
    expect(bits(32, 24)).toBeGreaterThanOrEqual(120);
  });

  it("echoes no secret in an error body, and writes none to a log line", async () => {
    const tooShort = "shortpw";
    const almostToken = `${member.invitation.token.slice(0, 40)}!!!`;
    const attempts = [
      await api.post("/api/auth/login/", { email: acme.adminEmail, password: "Not-the-password-31" }),
      await api.post("/api/auth/login/", { email: "nobody@security.example.com", password: PASSWORD }),
      await api.post("/api/users/accept-invite/", { token: member.invitation.token, password: PASSWORD }),
      await api.post("/api/users/accept-invite/", { token: almostToken, password: tooShort }),
      await api.post("/api/users/invitations/preview/", { token: almostToken }),
      await api.post(
        "/api/auth/password/change/",
        { old_password: "Not-the-password-31", new_password: tooShort },
        { token: acme.adminToken },
      ),
      await api.post("/api/tenants/", {
        name: "Leaky",
        admin_email: "leaky@security.example.com",
        admin_password: tooShort,
      }),
      await api.get("/api/users/me/", { token: `${acme.adminToken.split(".")[0]}.${"a".repeat(24)}` }),
      await api.get("/api/users/me/", { cookie: `${acme.adminToken}x` }),
      await api.post("/api/users/invite/", { email: "x@security.example.com" }, { cookie: acme.adminToken }),
    ];
    for (const reply of attempts) expect(reply.status, statusOf(reply)).toBeGreaterThanOrEqual(400);
    replies.push(...attempts);
    const all = {
      ...secrets,
      wrongPassword: "Not-the-password-31",
      tooShort,
      almostToken,
      invitationToken: member.invitation.token,
      sessionSecret: acme.adminToken.split(".")[1] ?? "",
    };
    for (const reply of replies.filter((r) => r.status >= 400)) {
      for (const [name, secret] of Object.entries(all)) {
        expect(reply.text.includes(secret), `${statusOf(reply)} echoes ${name}`).toBe(false);
      }
    }
    expect(logLines.length).toBeGreaterThan(20);
    for (const line of logLines) {
      for (const [name, secret] of Object.entries(all)) {
        expect(line.includes(secret), `a log line holds ${name}: ${line.slice(0, 300)}`).toBe(false);
      }
    }
  });
});

describe("behind a proxy", () => {
  let trusting: TestServer;
  let trustless: TestServer;
  beforeAll(async () => {
    [trusting, trustless] = await Promise.all([
      startTestServer({ env: { THROTTLE: "off", TRUST_PROXY: "true" } }),
      startTestServer({ env: { THROTTLE: "off" } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([trusting?.stop(), trustless?.stop()]);
  });

  const https = { headers: { "x-forwarded-proto": "https" } };

  it("marks the cookie Secure for X-Forwarded-Proto: https only when the proxy is trusted", async () => {
    for (const [server, secure] of [
      [trusting, true],
      [trustless, false],
    ] as const) {
      const api = new RestClient(server.url);
      const acme = await signUpRest(api);
      const login = await api.post("/api/auth/login/", { email: acme.adminEmail, password: PASSWORD }, https);
      const attributes = (sessionCookie(login)?.attributes ?? []).map((a) => a.toLowerCase());
      expect(attributes).toContain("httponly");
      expect(attributes.includes("secure"), `TRUST_PROXY ${secure}: ${login.headers.getSetCookie()}`).toBe(secure);
    }
  });

  it("sends HSTS behind https, nosniff and a framing policy on every kind of answer", async () => {
    const api = new RestClient(trusting.url);
    const acme = await signUpRest(api);
    const answers: { name: string; headers: Headers }[] = [];
    const record = (name: string, reply: { headers: Headers }) => answers.push({ name, headers: reply.headers });
    record("200", await api.get("/api/users/me/", { ...https, token: acme.adminToken }));
    record("401", await api.get("/api/users/me/", https));
    record("404", await api.get("/api/nothing/", https));
    record("400 body", await api.call("POST", "/api/auth/login/", { ...https, raw: "{" }));
    record("403 csrf", await api.post("/api/users/invite/", {}, { ...https, cookie: acme.adminToken }));
    record("trpc", await api.get("/trpc/auth.me", { ...https, token: acme.adminToken }));
    record("bad url", await api.get("/api/users/%E0%A4%A/", https));
    record("healthz", await api.get("/healthz", https));
    // Refused by Node's parser before any route: headers past the limit.
    record("431", await api.get("/api/users/me/", { headers: { ...https.headers, "x-big": "a".repeat(20_000) } }));
    const missing: string[] = [];
    for (const { name, headers } of answers) {
      if (headers.get("x-content-type-options") !== "nosniff") missing.push(`${name}: nosniff`);
      const frameAncestors = /frame-ancestors\s+('none'|'self')/.test(headers.get("content-security-policy") ?? "");
      if (!frameAncestors && !/^(DENY|SAMEORIGIN)$/.test(headers.get("x-frame-options") ?? "")) {
        missing.push(`${name}: framing policy`);
      }
      const hsts = headers.get("strict-transport-security") ?? "";
      if (!(Number(/max-age=(\d+)/.exec(hsts)?.[1] ?? 0) >= 15_552_000 && /includeSubDomains/i.test(hsts))) {
        missing.push(`${name}: HSTS (${hsts})`);
      }
    }
    expect(missing).toEqual([]);
    // Those refused before routing carry the same values as the others.
    const normal = answers[0]?.headers;
    for (const { name, headers } of answers) {
      for (const header of ["x-content-type-options", "x-frame-options", "strict-transport-security"]) {
        expect(headers.get(header), `${name} ${header}`).toBe(normal?.get(header));
      }
    }
  });
});
