import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addMemberRest,
  type Json,
  PASSWORD,
  RestClient,
  type RestTenant,
  signUpRest,
  statusOf,
  superuserRest,
  uniqueName,
} from "../test-support/rest.js";
import { startTestServer, type TestServer } from "../test-support/server.js";

const DAY_MS = 86_400_000;

/** JSON values that are not strings. */
const NOT_STRINGS: unknown[] = [5, 0, -1.5, true, false, [], ["a@b.example.com"], {}, { value: "x" }, null];
/** JSON values that are not (whole-number) integers. */
const NOT_INTEGERS: unknown[] = ["abc", "", "1.5", "7 days", true, false, [], [7], {}, { days: 7 }, null, 1.5];

interface BodyEndpoint {
  name: string;
  method: "POST";
  path: () => string;
  token: () => string | undefined;
  /** A body that is valid but for the field under test (fresh per case). */
  base: () => Record<string, unknown>;
  /** The field under test and the wrong values for it; `group` sets cases apart that have a test of their own. */
  fields: { field: string; wrong: unknown[]; group?: "alias" | "tenant" }[];
}

describe("REST input handling", () => {
  let server: TestServer;
  let api: RestClient;
  let acme: RestTenant;
  let other: RestTenant;
  let analyst: { user: Json; token: string };
  let pendingInvitation: Json;
  beforeAll(async () => {
    server = await startTestServer({ env: { THROTTLE: "off" } });
    api = new RestClient(server.url);
    acme = await signUpRest(api);
    other = await signUpRest(api);
    analyst = await addMemberRest(api, acme.adminToken, "analyst@input.example.com", "ANALYST");
    pendingInvitation = (
      await api.post("/api/users/invite/", { email: "pending@input.example.com" }, { token: acme.adminToken })
    ).body;
  });
  afterAll(async () => {
    await server?.stop();
  });

  const endpoints = (): BodyEndpoint[] => [
    {
      name: "POST /api/tenants/",
      method: "POST",
      path: () => "/api/tenants/",
      token: () => undefined,
      base: () => {
        const name = uniqueName("Typed");
        return { name, admin_email: `owner@${name.toLowerCase()}.example.com`, admin_password: PASSWORD };
      },
      fields: [
        { field: "name", wrong: NOT_STRINGS },
        { field: "admin_email", wrong: NOT_STRINGS },
        { field: "admin_password", wrong: NOT_STRINGS },
        { field: "admin_first_name", wrong: NOT_STRINGS },
        { field: "admin_last_name", wrong: NOT_STRINGS },
        { field: "first_name", wrong: NOT_STRINGS, group: "alias" },
        { field: "last_name", wrong: NOT_STRINGS, group: "alias" },
      ],
    },
    {
      name: "POST /api/auth/login/",
      method: "POST",
      path: () => "/api/auth/login/",
      token: () => undefined,
      base: () => ({ email: acme.adminEmail, password: PASSWORD }),
      fields: [
        { field: "email", wrong: NOT_STRINGS },
        { field: "password", wrong: NOT_STRINGS },
        { field: "tenant", wrong: NOT_STRINGS, group: "tenant" },
      ],
    },
    {
      name: "POST /api/users/invite/",
      method: "POST",
      path: () => "/api/users/invite/",
      token: () => acme.adminToken,
      base: () => ({ email: `${uniqueName("typed")}@input.example.com` }),
      fields: [
        { field: "email", wrong: NOT_STRINGS },
        // `null` means "no role".
        { field: "role", wrong: NOT_STRINGS.filter((value) => value !== null) },
        { field: "tenant", wrong: NOT_STRINGS, group: "tenant" },
      ],
    },
    {
      name: "POST /api/users/accept-invite/",
      method: "POST",
      path: () => "/api/users/accept-invite/",
      token: () => undefined,
      base: () => ({ token: "a-token-that-was-never-issued-by-anyone", password: PASSWORD }),
      fields: [
        { field: "token", wrong: NOT_STRINGS },
        { field: "password", wrong: NOT_STRINGS },
        { field: "first_name", wrong: NOT_STRINGS },
        { field: "last_name", wrong: NOT_STRINGS },
      ],
    },
    {
      name: "POST /api/user-roles/",
      method: "POST",
      path: () => "/api/user-roles/",
      token: () => acme.adminToken,
      base: () => ({ user: analyst.user.id, role: "VIEWER" }),
      fields: [
        { field: "user", wrong: NOT_STRINGS },
        { field: "role", wrong: NOT_STRINGS },
      ],
    },
    {
      name: "POST /api/users/invitations/{id}/extend/",
      method: "POST",
      path: () => `/api/users/invitations/${pendingInvitation.id}/extend/`,
      token: () => acme.adminToken,
      base: () => ({}),
      fields: [{ field: "days", wrong: [...NOT_INTEGERS, 0, -1, 31, 1e9] }],
    },
  ];

  /** Sends every wrong value of the chosen fields; returns what did not answer 400 naming the field. */
  async function wrongTypeProblems(
    group: "alias" | "tenant" | undefined,
  ): Promise<{ cases: number; problems: string[] }> {
    const problems: string[] = [];
    let cases = 0;
    for (const endpoint of endpoints()) {
      for (const { field, wrong, group: fieldGroup } of endpoint.fields) {
        if (fieldGroup !== group) continue;
        for (const value of wrong) {
          cases += 1;
          const body = { ...endpoint.base(), [field]: value };
          const reply = await api.post(endpoint.path(), body, { token: endpoint.token() });
          const ok =
            reply.status === 400 &&
            Object.keys(reply.body ?? {}).join(",") === field &&
            Array.isArray(reply.body[field]) &&
            reply.body[field].length > 0 &&
            reply.body[field].every((message: unknown) => typeof message === "string");
          if (!ok) problems.push(`${endpoint.name} ${field}=${JSON.stringify(value)} -> ${reply.status} ${reply.text}`);
        }
      }
    }
    return { cases, problems };
  }

  it("answers a wrong JSON type in every field of every endpoint with a 400 naming that field", async () => {
    const { cases, problems } = await wrongTypeProblems(undefined);
    expect(cases).toBeGreaterThan(150);
    expect(problems, problems.join("\n")).toEqual([]);
    // Nothing slipped through: the pending invitation keeps its expiry, no extra roles.
    const invitations = await api.get("/api/users/invitations/?status=pending", { token: acme.adminToken });
    expect(invitations.body.map((i: Json) => i.id)).toEqual([pendingInvitation.id]);
    expect(invitations.body[0].expires_at).toBe(pendingInvitation.expires_at);
    const roles = await api.get(`/api/user-roles/?user=${analyst.user.id}`, { token: acme.adminToken });
    expect(roles.body.map((a: Json) => a.role)).toEqual(["ANALYST"]);
  });

  it("answers a wrong JSON type in `tenant` (login, invite) with a 400 naming `tenant`", async () => {
    const { cases, problems } = await wrongTypeProblems("tenant");
    expect(cases).toBe(20);
    expect(problems, problems.join("\n")).toEqual([]);
  });

  it("names the alias the caller sent (first_name, last_name on sign-up) in its field errors", async () => {
    const { cases, problems } = await wrongTypeProblems("alias");
    expect(cases).toBe(20);
    expect(problems, problems.join("\n")).toEqual([]);
  });

  it("takes `days` as an integer or a numeric string (DRF's IntegerField), within 1–30", async () => {
    for (const [days, expected] of [
      [1, 1],
      ["30", 30],
      [" 12 ", 12],
    ] as const) {
      const before = Date.now();
      const reply = await api.post(
        `/api/users/invitations/${pendingInvitation.id}/extend/`,
        { days },
        { token: acme.adminToken },
      );
      expect(reply.status, statusOf(reply)).toBe(200);
      const expiry = Date.parse(reply.body.expires_at);
      expect(expiry).toBeGreaterThanOrEqual(before + expected * DAY_MS - 1000);
      expect(expiry).toBeLessThanOrEqual(Date.now() + expected * DAY_MS + 1000);
    }
    // Absent: seven days.
    const before = Date.now();
    const reply = await api.post(`/api/users/invitations/${pendingInvitation.id}/extend/`, undefined, {
      token: acme.adminToken,
    });
    expect(reply.status, statusOf(reply)).toBe(200);
    expect(Date.parse(reply.body.expires_at)).toBeGreaterThanOrEqual(before + 7 * DAY_MS - 1000);
    pendingInvitation = reply.body;
  });

  it("answers a body that is not a JSON object with 400 non_field_errors on every endpoint", async () => {
    const problems: string[] = [];
    for (const endpoint of endpoints()) {
      for (const body of [[], [{ email: "a@b.example.com" }], "x", "", 5, 0, true, false, null]) {
        const reply = await api.post(endpoint.path(), body, { token: endpoint.token() });
        const ok =
          reply.status === 400 &&
          Object.keys(reply.body ?? {}).join(",") === "non_field_errors" &&
          reply.body.non_field_errors.length === 1 &&
          reply.body.non_field_errors.every((message: unknown) => typeof message === "string");
        if (!ok) problems.push(`${endpoint.name} body=${JSON.stringify(body)} -> ${reply.status} ${reply.text}`);
      }
    }
    expect(problems, problems.join("\n")).toEqual([]);
  });

  describe("unknown fields are ignored and never applied", () => {
    it("on tenant sign-up: id, slug, created_at, admin_user_id, is_superuser", async () => {
      const chosenId = randomUUID();
      const created = await api.post("/api/tenants/", {
        name: "Ignored Fields Ltd",
        admin_email: "owner@ignored.example.com",
        admin_password: PASSWORD,
        id: chosenId,
        slug: "my-own-slug",
        created_at: "2000-01-01T00:00:00.000Z",
        admin_user_id: chosenId,
        is_superuser: true,
        roles: ["VIEWER"],
      });
      expect(created.status, statusOf(created)).toBe(201);
      expect(created.body.id).not.toBe(chosenId);
      expect(created.body.admin_user_id).not.toBe(chosenId);
      expect(created.body.slug).toBe("ignored-fields-ltd");
      expect(Date.parse(created.body.created_at)).toBeGreaterThan(Date.parse("2020-01-01T00:00:00Z"));
      const login = await api.post("/api/auth/login/", { email: "owner@ignored.example.com", password: PASSWORD });
      expect(login.body.user).toMatchObject({ is_superuser: false, roles: ["ADMIN"], tenant: created.body.id });
    });

    it("on accept: is_superuser, tenant, roles, email, id", async () => {
      const invited = await api.post(
        "/api/users/invite/",
        { email: "accept-ignored@input.example.com", role: "VIEWER" },
        { token: acme.adminToken },
      );
      const chosenId = randomUUID();
      const accepted = await api.post("/api/users/accept-invite/", {
        token: invited.body.token,
        password: PASSWORD,
        is_superuser: true,
        tenant: other.tenant.id,
        roles: ["ADMIN"],
        role: "ADMIN",
        email: "someone-else@input.example.com",
        id: chosenId,
      });
      expect(accepted.status, statusOf(accepted)).toBe(201);
      expect(accepted.body).toMatchObject({
        email: "accept-ignored@input.example.com",
        tenant: acme.tenant.id,
        roles: ["VIEWER"],
        is_superuser: false,
      });
      expect(accepted.body.id).not.toBe(chosenId);
      const theirUsers = await api.get("/api/users/", { token: other.adminToken });
      expect(theirUsers.body.map((u: Json) => u.email)).toEqual([other.adminEmail]);
    });

    it("on invite, grant, extend and login", async () => {
      const invited = await api.post(
        "/api/users/invite/",
        {
          email: "invite-ignored@input.example.com",
          status: "accepted",
          invited_by: other.adminId,
          expires_at: "2099-01-01T00:00:00.000Z",
          accepted_at: "2000-01-01T00:00:00.000Z",
          token: "a-token-i-chose-myself",
          email_delivery: "sent",
        },
        { token: acme.adminToken },
      );
      expect(invited.status, statusOf(invited)).toBe(201);
      expect(invited.body).toMatchObject({ status: "pending", invited_by: acme.adminId, accepted_at: null });
      expect(invited.body.token).not.toBe("a-token-i-chose-myself");
      expect(Date.parse(invited.body.expires_at) - Date.parse(invited.body.created_at)).toBe(7 * DAY_MS);
      const chosen = await api.post("/api/users/accept-invite/", {
        token: "a-token-i-chose-myself",
        password: PASSWORD,
      });
      expect(chosen.status).toBe(400);

      const extended = await api.post(
        `/api/users/invitations/${invited.body.id}/extend/`,
        { expires_at: "2099-01-01T00:00:00.000Z", status: "revoked" },
        { token: acme.adminToken },
      );
      expect(extended.status, statusOf(extended)).toBe(200);
      expect(extended.body.status).toBe("pending");
      expect(Date.parse(extended.body.expires_at)).toBeLessThan(Date.now() + 8 * DAY_MS);

      const granted = await api.post(
        "/api/user-roles/",
        { user: analyst.user.id, role: "VIEWER", tenant: other.tenant.id, granted_by: other.adminId, id: randomUUID() },
        { token: acme.adminToken },
      );
      expect(granted.status, statusOf(granted)).toBe(201);
      expect(granted.body).toMatchObject({ tenant: acme.tenant.id, granted_by: acme.adminId, user: analyst.user.id });
      const revoke = await api.delete(`/api/user-roles/${granted.body.id}/`, { token: acme.adminToken });
      expect(revoke.status).toBe(204);

      const login = await api.post("/api/auth/login/", {
        email: "analyst@input.example.com",
        password: PASSWORD,
        is_superuser: true,
        roles: ["ADMIN"],
      });
      expect(login.status, statusOf(login)).toBe(200);
      expect(login.body.user).toMatchObject({ is_superuser: false, roles: ["ANALYST"] });
    });
  });

  it("stores and returns unicode and SQL-looking strings verbatim", async () => {
    const names = [
      "Robert'); DROP TABLE tenants;--",
      "Ünïcødé 株式会社",
      "🚀 Rocket 🦄 Unicorn",
      `Quote " Backslash \\ Tab\tEnd`,
      "1' OR '1'='1",
    ];
    for (const name of names) {
      const email = `owner@${uniqueName("verbatim")}.example.com`;
      const created = await api.post("/api/tenants/", {
        name,
        admin_email: email,
        admin_password: PASSWORD,
        admin_first_name: name,
        admin_last_name: "Ω≈ç√∫ 😀",
      });
      expect(created.status, statusOf(created)).toBe(201);
      expect(created.body.name).toBe(name);
      expect(created.body.slug).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      const login = await api.post("/api/auth/login/", { email, password: PASSWORD });
      expect(login.body.user).toMatchObject({ first_name: name, last_name: "Ω≈ç√∫ 😀" });
      const fetched = await api.get(`/api/tenants/${created.body.id}/`, { token: login.body.token });
      expect(fetched.body.name).toBe(name);
      const bySlug = await api.get(`/api/tenants/${encodeURIComponent(created.body.slug)}/`, {
        token: login.body.token,
      });
      expect(bySlug.body.id).toBe(created.body.id);
    }

    const invited = await api.post(
      "/api/users/invite/",
      { email: "verbatim@input.example.com" },
      { token: acme.adminToken },
    );
    const accepted = await api.post("/api/users/accept-invite/", {
      token: invited.body.token,
      password: PASSWORD,
      first_name: "Robert'); DROP TABLE users;--",
      last_name: "株式会社 🚀",
    });
    expect(accepted.status, statusOf(accepted)).toBe(201);
    expect(accepted.body).toMatchObject({ first_name: "Robert'); DROP TABLE users;--", last_name: "株式会社 🚀" });
    const users = await api.get("/api/users/", { token: acme.adminToken });
    expect(users.body.find((u: Json) => u.id === accepted.body.id)).toMatchObject({
      first_name: "Robert'); DROP TABLE users;--",
      last_name: "株式会社 🚀",
    });
    // The tables are all still there.
    const tenants = await api.get("/api/tenants/", { token: acme.adminToken });
    expect(tenants.status).toBe(200);
  });

  it("trims and lower-cases emails before storing and comparing them", async () => {
    const created = await api.post("/api/tenants/", {
      name: "Email Case Co",
      admin_email: "  Mixed.Case@Email-Case.EXAMPLE.com  ",
      admin_password: PASSWORD,
    });
    expect(created.status, statusOf(created)).toBe(201);
    for (const email of ["mixed.case@email-case.example.com", " MIXED.CASE@email-case.example.COM "]) {
      const login = await api.post("/api/auth/login/", { email, password: PASSWORD });
      expect(login.status, `${email}: ${statusOf(login)}`).toBe(200);
      expect(login.body.user.email).toBe("mixed.case@email-case.example.com");
    }
    const token = (
      await api.post("/api/auth/login/", { email: "mixed.case@email-case.example.com", password: PASSWORD })
    ).body.token;

    const invited = await api.post("/api/users/invite/", { email: "  New.Person@Email-Case.EXAMPLE.com " }, { token });
    expect(invited.status, statusOf(invited)).toBe(201);
    expect(invited.body.email).toBe("new.person@email-case.example.com");
    // The same address in another spelling replaces the pending invitation.
    const again = await api.post("/api/users/invite/", { email: "NEW.PERSON@email-case.example.com" }, { token });
    expect(again.status, statusOf(again)).toBe(201);
    const list = await api.get("/api/users/invitations/", { token });
    expect(Object.fromEntries(list.body.map((i: Json) => [i.id, [i.email, i.status]]))).toEqual({
      [invited.body.id]: ["new.person@email-case.example.com", "revoked"],
      [again.body.id]: ["new.person@email-case.example.com", "pending"],
    });
    const accepted = await api.post("/api/users/accept-invite/", { token: again.body.token, password: PASSWORD });
    expect(accepted.body.email).toBe("new.person@email-case.example.com");
    // A member, in any spelling, cannot be invited again.
    const member = await api.post("/api/users/invite/", { email: " New.PERSON@email-case.example.com" }, { token });
    expect(member.status, statusOf(member)).toBe(400);
    expect(Object.keys(member.body)).toEqual(["email"]);
  });

  it("takes role absent or null as no role, and refuses '' and other spellings", async () => {
    const absent = await api.post(
      "/api/users/invite/",
      { email: "norole1@input.example.com" },
      { token: acme.adminToken },
    );
    expect(absent.status, statusOf(absent)).toBe(201);
    expect(absent.body.role).toBeNull();
    const nulled = await api.post(
      "/api/users/invite/",
      { email: "norole2@input.example.com", role: null },
      { token: acme.adminToken },
    );
    expect(nulled.status, statusOf(nulled)).toBe(201);
    expect(nulled.body.role).toBeNull();
    const accepted = await api.post("/api/users/accept-invite/", { token: nulled.body.token, password: PASSWORD });
    expect(accepted.body.roles).toEqual([]);

    for (const role of ["", "analyst", "Admin", "SUPERUSER", " VIEWER"]) {
      const invite = await api.post(
        "/api/users/invite/",
        { email: "badrole@input.example.com", role },
        { token: acme.adminToken },
      );
      expect(invite.status, `${JSON.stringify(role)}: ${statusOf(invite)}`).toBe(400);
      expect(Object.keys(invite.body)).toEqual(["role"]);
      const grant = await api.post("/api/user-roles/", { user: analyst.user.id, role }, { token: acme.adminToken });
      expect(grant.status, `${JSON.stringify(role)}: ${statusOf(grant)}`).toBe(400);
      expect(Object.keys(grant.body)).toEqual(["role"]);
    }
  });

  describe("query parameters", () => {
    it("filters invitations by ?status= and refuses an unknown status", async () => {
      const token = acme.adminToken;
      const revokedOne = await api.post("/api/users/invite/", { email: "to-revoke@input.example.com" }, { token });
      expect((await api.delete(`/api/users/invitations/${revokedOne.body.id}/`, { token })).status).toBe(204);
      const all = (await api.get("/api/users/invitations/", { token })).body as Json[];
      for (const status of ["pending", "accepted", "revoked", "expired"]) {
        const reply = await api.get(`/api/users/invitations/?status=${status}`, { token });
        expect(reply.status, statusOf(reply)).toBe(200);
        expect(reply.body.map((i: Json) => i.id).sort()).toEqual(
          all
            .filter((i) => i.status === status)
            .map((i) => i.id)
            .sort(),
        );
      }
      expect(all.some((i) => i.status === "revoked")).toBe(true);
      const empty = await api.get("/api/users/invitations/?status=", { token });
      expect(empty.body).toHaveLength(all.length);
      for (const status of ["bogus", "PENDING", "Pending", "1"]) {
        const reply = await api.get(`/api/users/invitations/?status=${status}`, { token });
        expect(reply.status, statusOf(reply)).toBe(400);
        expect(Object.keys(reply.body)).toEqual(["status"]);
      }
    });

    it("filters role assignments by ?role= and ?user=, together, and refuses bad values", async () => {
      const token = analyst.token;
      const all = (await api.get("/api/user-roles/", { token })).body as Json[];
      const admins = await api.get("/api/user-roles/?role=ADMIN", { token });
      expect(admins.body.map((a: Json) => a.user)).toEqual([acme.adminId]);
      const mine = await api.get(`/api/user-roles/?user=${analyst.user.id}`, { token });
      expect(mine.body.map((a: Json) => a.role)).toEqual(["ANALYST"]);
      const both = await api.get(`/api/user-roles/?user=${analyst.user.id}&role=ADMIN`, { token });
      expect(both.body).toEqual([]);
      const nobody = await api.get(`/api/user-roles/?user=${randomUUID()}`, { token });
      expect(nobody.body).toEqual([]);
      const blank = await api.get("/api/user-roles/?role=&user=", { token });
      expect(blank.body).toHaveLength(all.length);
      const theirUser = await api.get(`/api/user-roles/?user=${other.adminId}`, { token });
      expect(theirUser.body).toEqual([]);

      for (const [query, field] of [
        ["role=bogus", "role"],
        ["role=admin", "role"],
        ["user=not-a-uuid", "user"],
      ] as const) {
        const reply = await api.get(`/api/user-roles/?${query}`, { token });
        expect(reply.status, statusOf(reply)).toBe(400);
        expect(Object.keys(reply.body)).toEqual([field]);
      }
    });

    it("lets a tenant admin's `tenant` naming another tenant never widen scope", async () => {
      const token = acme.adminToken;
      for (const path of ["/api/users/", "/api/user-roles/", "/api/users/invitations/"]) {
        const own = await api.get(path, { token });
        for (const ref of [other.tenant.id, other.tenant.slug]) {
          const reply = await api.get(`${path}?tenant=${ref}`, { token });
          expect(reply.status, statusOf(reply)).toBe(200);
          expect(reply.body).toEqual(own.body);
        }
      }
      const invite = await api.post(
        "/api/users/invite/",
        { email: "cross@input.example.com", tenant: other.tenant.id },
        { token },
      );
      expect([403, 201], statusOf(invite)).toContain(invite.status);
      if (invite.status === 201) expect(invite.body.tenant).toBe(acme.tenant.id);
      const theirs = await api.get("/api/users/invitations/", { token: other.adminToken });
      expect(theirs.body.map((i: Json) => i.email)).not.toContain("cross@input.example.com");
    });
  });

  describe("a superuser over REST", () => {
    let staff: { token: string };
    beforeAll(async () => {
      staff = await superuserRest(server, api);
    });

    it("sees every tenant", async () => {
      const tenants = await api.get("/api/tenants/", { token: staff.token });
      expect(tenants.status, statusOf(tenants)).toBe(200);
      const ids = tenants.body.map((t: Json) => t.id);
      expect(ids).toContain(acme.tenant.id);
      expect(ids).toContain(other.tenant.id);
      const theirs = await api.get(`/api/tenants/${other.tenant.slug}/`, { token: staff.token });
      expect(theirs.body.id).toBe(other.tenant.id);
    });

    it("names the tenant with ?tenant= (id or slug) to list users; without it, 400 tenant", async () => {
      const missing = await api.get("/api/users/", { token: staff.token });
      expect(missing.status, statusOf(missing)).toBe(400);
      expect(Object.keys(missing.body)).toEqual(["tenant"]);
      for (const ref of [acme.tenant.id, acme.tenant.slug]) {
        const reply = await api.get(`/api/users/?tenant=${ref}`, { token: staff.token });
        expect(reply.status, `?tenant=${ref}: ${statusOf(reply)}`).toBe(200);
        const emails = reply.body.map((u: Json) => u.email);
        expect(emails).toContain(acme.adminEmail);
        expect(emails).not.toContain(other.adminEmail);
      }
      const unknown = await api.get("/api/users/?tenant=no-such-tenant", { token: staff.token });
      expect(unknown.status, statusOf(unknown)).toBe(400);
      expect(unknown.body).toEqual({ tenant: ['Invalid tenant "no-such-tenant" - object does not exist.'] });
    });

    it("lists role assignments of every tenant, or of the one named by ?tenant=", async () => {
      const all = await api.get("/api/user-roles/", { token: staff.token });
      expect(all.status, statusOf(all)).toBe(200);
      const tenants = new Set(all.body.map((a: Json) => a.tenant));
      expect(tenants.has(acme.tenant.id) && tenants.has(other.tenant.id)).toBe(true);
      const scoped = await api.get(`/api/user-roles/?tenant=${other.tenant.slug}`, { token: staff.token });
      expect(scoped.status, statusOf(scoped)).toBe(200);
      expect(scoped.body.length).toBeGreaterThan(0);
      expect(
        scoped.body.filter((a: Json) => a.tenant !== other.tenant.id),
        "assignments of other tenants in a list scoped by ?tenant=",
      ).toEqual([]);
    });

    it("invites into the tenant it names (and must name one), and manages its invitations", async () => {
      const missing = await api.post(
        "/api/users/invite/",
        { email: "staff-invite@input.example.com" },
        { token: staff.token },
      );
      expect(missing.status, statusOf(missing)).toBe(400);
      expect(Object.keys(missing.body)).toEqual(["tenant"]);

      const invited = await api.post(
        "/api/users/invite/",
        { email: "staff-invite@input.example.com", role: "ANALYST", tenant: other.tenant.slug },
        { token: staff.token },
      );
      expect(invited.status, statusOf(invited)).toBe(201);
      expect(invited.body).toMatchObject({ tenant: other.tenant.id, role: "ANALYST" });

      const listed = await api.get(`/api/users/invitations/?tenant=${other.tenant.id}`, { token: staff.token });
      expect(listed.status, statusOf(listed)).toBe(200);
      expect(listed.body.map((i: Json) => i.id)).toContain(invited.body.id);
      expect(listed.body.every((i: Json) => i.tenant === other.tenant.id)).toBe(true);

      const extended = await api.post(
        `/api/users/invitations/${invited.body.id}/extend/`,
        { days: 2 },
        { token: staff.token },
      );
      expect(extended.status, statusOf(extended)).toBe(200);
      const revoked = await api.delete(`/api/users/invitations/${invited.body.id}/`, { token: staff.token });
      expect(revoked.status, statusOf(revoked)).toBe(204);
    });
  });

  it("logs in with `tenant` (id or slug) when one email has accounts in several tenants", async () => {
    const email = "shared@input.example.com";
    await addMemberRest(api, acme.adminToken, email, "VIEWER");
    const invited = await api.post("/api/users/invite/", { email }, { token: other.adminToken });
    expect(invited.status, statusOf(invited)).toBe(201);
    const accepted = await api.post("/api/users/accept-invite/", { token: invited.body.token, password: PASSWORD });
    expect(accepted.status, statusOf(accepted)).toBe(201);

    const ambiguous = await api.post("/api/auth/login/", { email, password: PASSWORD });
    expect(ambiguous.status, statusOf(ambiguous)).toBe(400);
    expect(Object.keys(ambiguous.body)).toEqual(["tenant"]);
    for (const [ref, tenantId] of [
      [acme.tenant.id, acme.tenant.id],
      [other.tenant.slug, other.tenant.id],
    ]) {
      const login = await api.post("/api/auth/login/", { email, password: PASSWORD, tenant: ref });
      expect(login.status, `tenant=${ref}: ${statusOf(login)}`).toBe(200);
      expect(login.body.user.tenant).toBe(tenantId);
    }
  });
});
