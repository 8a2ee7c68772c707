import { randomUUID } from "node:crypto";
import type { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failure, fieldErrorsOf } from "./test-support/errors.js";
import {
  addMember,
  type Caller,
  createHarness,
  type Harness,
  STRONG_PASSWORD,
  signUp,
  superuser,
  unique,
} from "./test-support/harness.js";
import { errorDetails } from "./trpc/errors.js";
import { appRouter } from "./trpc/router.js";

/**
 * Who may call what: every procedure × every kind of caller, from one table,
 * and tenant isolation for every procedure that takes an id or a tenant.
 */

const NO_CREDENTIALS = "Authentication credentials were not provided.";
const NO_PERMISSION = "You do not have permission to perform this action.";

const ACTORS = ["anonymous", "VIEWER", "ANALYST", "role-less member", "ADMIN", "superuser"] as const;
type Actor = (typeof ACTORS)[number];

const EVERYONE: readonly Actor[] = ACTORS;
const AUTHENTICATED: readonly Actor[] = ["VIEWER", "ANALYST", "role-less member", "ADMIN", "superuser"];
const ADMINS: readonly Actor[] = ["ADMIN", "superuser"];

/** One prepared call: `act` is what is authorized or not; `verify` checks the state afterwards. */
interface PreparedCall {
  act(): Promise<unknown>;
  verify?(outcome: { allowed: boolean; result: unknown }): Promise<void>;
}

interface ProcedureRule {
  /** Who may call it; everyone else is refused (anonymous: UNAUTHORIZED, others: FORBIDDEN). */
  allowed: readonly Actor[];
  prepare(actor: Actor): Promise<PreparedCall>;
}

describe("authorization", () => {
  let h: Harness;

  /** Tenant A with one member per role, and a superuser. */
  let a: Awaited<ReturnType<typeof signUp>>;
  let su: Awaited<ReturnType<typeof superuser>>;
  const identities = {} as Record<Exclude<Actor, "anonymous">, { id: string; email: string; token: string }>;

  beforeAll(async () => {
    h = await createHarness({ throttle: false });
    a = await signUp(h);
    su = await superuser(h);
    const viewer = await addMember(h, a.admin, "viewer@matrix.example.com", "VIEWER");
    const analyst = await addMember(h, a.admin, "analyst@matrix.example.com", "ANALYST");
    const member = await addMember(h, a.admin, "member@matrix.example.com", null);
    identities.VIEWER = { id: viewer.user.id, email: viewer.user.email, token: viewer.token };
    identities.ANALYST = { id: analyst.user.id, email: analyst.user.email, token: analyst.token };
    identities["role-less member"] = { id: member.user.id, email: member.user.email, token: member.token };
    identities.ADMIN = { id: a.adminId, email: a.adminEmail, token: a.adminToken };
    identities.superuser = { id: su.user.id, email: su.user.email, token: su.token };
  });
  afterAll(async () => {
    await h?.close();
  });

  function callerFor(actor: Actor): Caller {
    return actor === "anonymous" ? h.call() : h.call(identities[actor].token);
  }

  /** A new session of the actor's own (logout must not end the shared one). */
  async function freshCallerFor(actor: Actor): Promise<{ caller: Caller; token: string | null }> {
    if (actor === "anonymous") return { caller: h.call(), token: null };
    const { email } = identities[actor];
    const tenant = actor === "superuser" ? undefined : a.tenant.id;
    const { token } = await h.call().auth.login({ email, password: STRONG_PASSWORD, tenant });
    return { caller: h.call(token), token };
  }

  /**
   * A new user of the actor's kind with two sessions (`caller` and `other`),
   * for procedures that end sessions the shared identities need.
   */
  async function disposableCallerFor(actor: Actor): Promise<{ caller: Caller; other?: Caller }> {
    if (actor === "anonymous") return { caller: h.call() };
    let email: string;
    if (actor === "superuser") email = (await superuser(h)).user.email;
    else {
      const role = actor === "role-less member" ? null : actor;
      email = (await addMember(h, a.admin, `${unique("disposable")}@matrix.example.com`, role)).user.email;
    }
    const tenant = actor === "superuser" ? undefined : a.tenant.id;
    const login = () => h.call().auth.login({ email, password: STRONG_PASSWORD, tenant });
    return { caller: h.call((await login()).token), other: h.call((await login()).token) };
  }

  /** `tenant` for a superuser where a tenant must be named; members pass nothing. */
  function tenantFor(actor: Actor): string | undefined {
    return actor === "superuser" ? a.tenant.slug : undefined;
  }

  async function invitationInA(role: "VIEWER" | null = null) {
    return a.admin.invite.create({ email: `${unique("invitee")}@matrix.example.com`, role });
  }

  async function userInA(): Promise<string> {
    const invitation = await invitationInA();
    return (await h.call().invite.accept({ token: invitation.token, password: STRONG_PASSWORD })).id;
  }

  /** A new member of tenant A (who can log in with STRONG_PASSWORD); their address. */
  async function memberEmailInA(): Promise<string> {
    const email = `${unique("resetter")}@matrix.example.com`;
    const invitation = await a.admin.invite.create({ email, role: null });
    await h.call().invite.accept({ token: invitation.token, password: STRONG_PASSWORD });
    return email;
  }

  /** How many rows a count query finds, straight from the database. */
  async function countOf(query: string, params: unknown[] = []): Promise<number> {
    const rows = await h.db.orm.em.fork().getConnection().execute<{ n: string | number }[]>(query, params);
    return Number(rows[0]?.n);
  }

  async function statusInA(id: string) {
    return (await a.admin.invite.list()).find((i) => i.id === id);
  }

  const RULES: Record<string, ProcedureRule> = {
    "auth.login": {
      allowed: EVERYONE,
      prepare: async (actor) => ({
        act: () =>
          callerFor(actor).auth.login({ email: a.adminEmail, password: STRONG_PASSWORD, tenant: a.tenant.slug }),
        verify: async ({ result }) => {
          expect((result as { user: { id: string } }).user.id).toBe(a.adminId);
        },
      }),
    },
    "auth.logout": {
      allowed: AUTHENTICATED,
      prepare: async (actor) => {
        const { caller, token } = await freshCallerFor(actor);
        return {
          act: () => caller.auth.logout(),
          verify: async ({ allowed }) => {
            if (!allowed || token === null) return;
            const error = await failure(h.call(token).auth.me());
            expect(error.code).toBe("UNAUTHORIZED");
            expect(error.message).toBe("Invalid token.");
          },
        };
      },
    },
    "auth.me": {
      allowed: AUTHENTICATED,
      prepare: async (actor) => ({
        act: () => callerFor(actor).auth.me(),
        verify: async ({ allowed, result }) => {
          if (allowed && actor !== "anonymous") expect((result as { id: string }).id).toBe(identities[actor].id);
        },
      }),
    },
    "auth.changePassword": {
      allowed: AUTHENTICATED,
      prepare: async (actor) => {
        const { caller, other } = await disposableCallerFor(actor);
        return {
          act: () =>
            caller.auth.changePassword({ currentPassword: STRONG_PASSWORD, newPassword: "changed-Passphrase-42" }),
          verify: async ({ allowed }) => {
            if (!other) return;
            if (allowed) {
              expect(await caller.auth.me()).toBeDefined();
              expect((await failure(other.auth.me())).code).toBe("UNAUTHORIZED");
            } else expect(await other.auth.me()).toBeDefined();
          },
        };
      },
    },
    "auth.sessions": {
      allowed: AUTHENTICATED,
      prepare: async (actor) => ({
        act: () => callerFor(actor).auth.sessions(),
        verify: async ({ allowed, result }) => {
          if (allowed) expect((result as { current: boolean }[]).filter((s) => s.current)).toHaveLength(1);
        },
      }),
    },
    "auth.endSession": {
      allowed: AUTHENTICATED,
      prepare: async (actor) => {
        const { caller, token } = await freshCallerFor(actor);
        const id = token ? (token.split(".")[0] as string) : "nosuchsessionid12345678";
        return {
          act: () => caller.auth.endSession({ id }),
          verify: async ({ allowed }) => {
            if (allowed && token) expect((await failure(h.call(token).auth.me())).code).toBe("UNAUTHORIZED");
          },
        };
      },
    },
    "auth.endOtherSessions": {
      allowed: AUTHENTICATED,
      prepare: async (actor) => {
        const { caller, other } = await disposableCallerFor(actor);
        return {
          act: () => caller.auth.endOtherSessions(),
          verify: async ({ allowed }) => {
            if (!other) return;
            if (allowed) expect((await failure(other.auth.me())).code).toBe("UNAUTHORIZED");
            else expect(await other.auth.me()).toBeDefined();
          },
        };
      },
    },
    "tenant.create": {
      allowed: EVERYONE,
      prepare: async (actor) => {
        const name = unique("Matrix Signup");
        return {
          act: () =>
            callerFor(actor).tenant.create({
              name,
              adminEmail: `owner@${name.toLowerCase().replace(/\s+/g, "-")}.example.com`,
              adminPassword: STRONG_PASSWORD,
            }),
          verify: async ({ result }) => {
            expect((result as { name: string }).name).toBe(name);
          },
        };
      },
    },
    "tenant.list": {
      allowed: AUTHENTICATED,
      prepare: async (actor) => ({
        act: () => callerFor(actor).tenant.list(),
        verify: async ({ allowed, result }) => {
          if (!allowed) return;
          const ids = (result as { id: string }[]).map((t) => t.id);
          if (actor === "superuser") expect(ids).toContain(a.tenant.id);
          else expect(ids).toEqual([a.tenant.id]);
        },
      }),
    },
    "tenant.get": {
      allowed: AUTHENTICATED,
      prepare: async (actor) => ({
        act: () => callerFor(actor).tenant.get({ id: a.tenant.id }),
        verify: async ({ allowed, result }) => {
          if (allowed) expect(result).toMatchObject({ id: a.tenant.id, slug: a.tenant.slug });
        },
      }),
    },
    "user.me": {
      allowed: AUTHENTICATED,
      prepare: async (actor) => ({
        act: () => callerFor(actor).user.me(),
        verify: async ({ allowed, result }) => {
          if (allowed && actor !== "anonymous") expect((result as { id: string }).id).toBe(identities[actor].id);
        },
      }),
    },
    "user.list": {
      allowed: AUTHENTICATED,
      prepare: async (actor) => ({
        act: () => callerFor(actor).user.list({ tenant: tenantFor(actor) }),
        verify: async ({ allowed, result }) => {
          if (!allowed) return;
          const users = result as { id: string; tenantId: string }[];
          expect(users.map((u) => u.id)).toEqual(expect.arrayContaining([a.adminId, identities.VIEWER.id]));
          expect(new Set(users.map((u) => u.tenantId))).toEqual(new Set([a.tenant.id]));
        },
      }),
    },
    "user.updateMe": {
      allowed: AUTHENTICATED,
      prepare: async (actor) => {
        const { caller } = await freshCallerFor(actor);
        const lastName = unique("Renamed");
        return {
          act: () => caller.user.updateMe({ lastName }),
          verify: async ({ allowed, result }) => {
            if (allowed) expect((await caller.user.me()).lastName).toBe((result as { lastName: string }).lastName);
          },
        };
      },
    },
    "user.deactivate": {
      allowed: ADMINS,
      prepare: async (actor) => {
        const userId = await userInA();
        return {
          act: () => callerFor(actor).user.deactivate({ id: userId }),
          verify: async ({ allowed }) => {
            const user = (await a.admin.user.list()).find((u) => u.id === userId);
            expect(user?.isActive).toBe(!allowed);
          },
        };
      },
    },
    "user.activate": {
      allowed: ADMINS,
      prepare: async (actor) => {
        const userId = await userInA();
        await a.admin.user.deactivate({ id: userId });
        return {
          act: () => callerFor(actor).user.activate({ id: userId }),
          verify: async ({ allowed }) => {
            const user = (await a.admin.user.list()).find((u) => u.id === userId);
            expect(user?.isActive).toBe(allowed);
          },
        };
      },
    },
    "user.remove": {
      allowed: ADMINS,
      prepare: async (actor) => {
        const userId = await userInA();
        return {
          act: () => callerFor(actor).user.remove({ id: userId }),
          verify: async ({ allowed }) => {
            const found = (await a.admin.user.list()).some((u) => u.id === userId);
            expect(found).toBe(!allowed);
          },
        };
      },
    },
    "invite.create": {
      allowed: ADMINS,
      prepare: async (actor) => {
        const email = `${unique("matrix-invite")}@matrix.example.com`;
        return {
          act: () => callerFor(actor).invite.create({ email, role: "VIEWER", tenant: tenantFor(actor) }),
          verify: async ({ allowed }) => {
            const found = (await a.admin.invite.list()).filter((i) => i.email === email);
            expect(found).toHaveLength(allowed ? 1 : 0);
          },
        };
      },
    },
    "invite.bulk": {
      allowed: ADMINS,
      prepare: async (actor) => {
        const email = `${unique("matrix-bulk")}@matrix.example.com`;
        return {
          act: () =>
            callerFor(actor).invite.bulk({ invitations: [{ email, role: "VIEWER" }], tenant: tenantFor(actor) }),
          verify: async ({ allowed }) => {
            const found = (await a.admin.invite.list()).filter((i) => i.email === email);
            expect(found).toHaveLength(allowed ? 1 : 0);
          },
        };
      },
    },
    "auth.requestPasswordReset": {
      allowed: EVERYONE,
      prepare: async (actor) => {
        const email = await memberEmailInA();
        const before = h.resetEmails.length;
        return {
          act: () => callerFor(actor).auth.requestPasswordReset({ email }),
          verify: async ({ result }) => {
            expect(result).toEqual({ detail: "If the address has an account, a reset link has been sent." });
            await h.deliverEmails();
            expect(h.resetEmails.slice(before).map((mail) => mail.to)).toEqual([email]);
          },
        };
      },
    },
    "auth.confirmPasswordReset": {
      allowed: EVERYONE,
      prepare: async (actor) => {
        const email = await memberEmailInA();
        const before = h.resetEmails.length;
        await h.call().auth.requestPasswordReset({ email });
        await h.deliverEmails();
        const [mail] = h.resetEmails.slice(before);
        const token = new URLSearchParams(new URL(mail?.resetUrl ?? "").hash.slice(1)).get("token") ?? "";
        const newPassword = "matrix-Reset-passphrase-1";
        return {
          act: () => callerFor(actor).auth.confirmPasswordReset({ token, newPassword }),
          verify: async () => {
            await h.call().auth.login({ email, password: newPassword, tenant: a.tenant.id });
          },
        };
      },
    },
    "invite.preview": {
      allowed: EVERYONE,
      prepare: async (actor) => {
        const invitation = await invitationInA("VIEWER");
        return {
          act: () => callerFor(actor).invite.preview({ token: invitation.token }),
          verify: async ({ result }) => {
            expect(result).toMatchObject({ status: "pending", email: invitation.email, role: "VIEWER" });
          },
        };
      },
    },
    "invite.list": {
      allowed: ADMINS,
      prepare: async (actor) => {
        const invitation = await invitationInA();
        return {
          act: () => callerFor(actor).invite.list(),
          verify: async ({ allowed, result }) => {
            if (allowed) expect((result as { id: string }[]).map((i) => i.id)).toContain(invitation.id);
          },
        };
      },
    },
    "invite.revoke": {
      allowed: ADMINS,
      prepare: async (actor) => {
        const invitation = await invitationInA();
        return {
          act: () => callerFor(actor).invite.revoke({ id: invitation.id }),
          verify: async ({ allowed }) => {
            expect((await statusInA(invitation.id))?.status).toBe(allowed ? "revoked" : "pending");
          },
        };
      },
    },
    "invite.extend": {
      allowed: ADMINS,
      prepare: async (actor) => {
        const invitation = await invitationInA();
        return {
          act: () => callerFor(actor).invite.extend({ id: invitation.id, days: 20 }),
          verify: async ({ allowed }) => {
            const expected = allowed
              ? new Date(h.clock.now().getTime() + 20 * 86_400_000).toISOString()
              : invitation.expiresAt;
            expect((await statusInA(invitation.id))?.expiresAt).toBe(expected);
          },
        };
      },
    },
    "invite.accept": {
      allowed: EVERYONE,
      prepare: async (actor) => {
        const invitation = await invitationInA("VIEWER");
        return {
          act: () => callerFor(actor).invite.accept({ token: invitation.token, password: STRONG_PASSWORD }),
          verify: async ({ result }) => {
            expect(result).toMatchObject({ email: invitation.email, tenantId: a.tenant.id, roles: ["VIEWER"] });
          },
        };
      },
    },
    "role.list": {
      allowed: AUTHENTICATED,
      prepare: async (actor) => ({
        act: () => callerFor(actor).role.list(),
        verify: async ({ allowed, result }) => {
          if (!allowed) return;
          const assignments = result as { userId: string; role: string; tenantId: string }[];
          expect(assignments).toContainEqual(expect.objectContaining({ userId: a.adminId, role: "ADMIN" }));
          if (actor !== "superuser")
            expect(new Set(assignments.map((x) => x.tenantId))).toEqual(new Set([a.tenant.id]));
        },
      }),
    },
    "role.grant": {
      allowed: ADMINS,
      prepare: async (actor) => {
        const userId = await userInA();
        return {
          act: () => callerFor(actor).role.grant({ userId, role: "ANALYST" }),
          verify: async ({ allowed }) => {
            const roles = (await a.admin.role.list({ userId })).map((x) => x.role);
            expect(roles).toEqual(allowed ? ["ANALYST"] : []);
          },
        };
      },
    },
    "role.revoke": {
      allowed: ADMINS,
      prepare: async (actor) => {
        const userId = await userInA();
        const assignment = await a.admin.role.grant({ userId, role: "VIEWER" });
        return {
          act: () => callerFor(actor).role.revoke({ id: assignment.id }),
          verify: async ({ allowed }) => {
            expect(await a.admin.role.list({ userId })).toEqual(allowed ? [] : [assignment]);
          },
        };
      },
    },
    "tenant.page": {
      allowed: AUTHENTICATED,
      prepare: async (actor) => ({
        act: () => callerFor(actor).tenant.page({ limit: 5 }),
        verify: async ({ allowed, result }) => {
          if (allowed && actor !== "superuser")
            expect(result).toMatchObject({ count: 1, results: [{ id: a.tenant.id }] });
        },
      }),
    },
    "user.page": {
      allowed: AUTHENTICATED,
      prepare: async (actor) => ({
        act: () => callerFor(actor).user.page({ limit: 5, tenant: tenantFor(actor) }),
        verify: async ({ allowed, result }) => {
          if (allowed)
            expect((result as { count: number }).count).toBe(
              await countOf("select count(*) as n from users where tenant_id = ?", [a.tenant.id]),
            );
        },
      }),
    },
    "invite.page": {
      allowed: ADMINS,
      prepare: async (actor) => {
        const invitation = await invitationInA();
        return {
          act: () => callerFor(actor).invite.page({ limit: 1000 }),
          verify: async ({ allowed, result }) => {
            if (allowed)
              expect((result as { results: { id: string }[] }).results.map((i) => i.id)).toContain(invitation.id);
          },
        };
      },
    },
    "invite.cursor": {
      allowed: ADMINS,
      prepare: async (actor) => {
        const invitation = await invitationInA();
        return {
          act: () => callerFor(actor).invite.cursor({ limit: 1000, tenant: tenantFor(actor) }),
          verify: async ({ allowed, result }) => {
            if (allowed)
              expect((result as { results: { id: string }[] }).results.map((i) => i.id)).toContain(invitation.id);
          },
        };
      },
    },
    "role.page": {
      allowed: AUTHENTICATED,
      prepare: async (actor) => ({
        act: () => callerFor(actor).role.page({ limit: 5, role: "ADMIN" }),
        verify: async ({ allowed, result }) => {
          // A member sees the ADMIN assignments of their tenant, a superuser those of every tenant.
          if (allowed)
            expect((result as { count: number }).count).toBe(
              actor === "superuser"
                ? await countOf("select count(*) as n from role_assignments where role = 'ADMIN'")
                : await countOf("select count(*) as n from role_assignments where role = 'ADMIN' and tenant_id = ?", [
                    a.tenant.id,
                  ]),
            );
        },
      }),
    },
    "invite.resend": {
      allowed: ADMINS,
      prepare: async (actor) => {
        const invitation = await invitationInA();
        return {
          act: () => callerFor(actor).invite.resend({ id: invitation.id }),
          verify: async ({ allowed }) => {
            // A re-sent invitation has a new token: the old one works only if nothing was re-sent.
            const old = await h
              .call()
              .invite.accept({ token: invitation.token, password: STRONG_PASSWORD })
              .then(() => "accepted")
              .catch(() => "refused");
            expect(old).toBe(allowed ? "refused" : "accepted");
          },
        };
      },
    },
    "audit.list": {
      allowed: ADMINS,
      prepare: async (actor) => ({
        act: () => callerFor(actor).audit.list({ tenant: tenantFor(actor) }),
        verify: async ({ allowed, result }) => {
          if (!allowed) return;
          const events = result as { tenantId: string }[];
          expect(events).toHaveLength(
            await countOf("select count(*) as n from audit_events where tenant_id = ?", [a.tenant.id]),
          );
          expect(events.every((e) => e.tenantId === a.tenant.id)).toBe(true);
        },
      }),
    },
    "audit.page": {
      allowed: ADMINS,
      prepare: async (actor) => ({
        act: () => callerFor(actor).audit.page({ limit: 5, tenant: tenantFor(actor) }),
        verify: async ({ allowed, result }) => {
          if (allowed)
            expect((result as { count: number }).count).toBe(
              await countOf("select count(*) as n from audit_events where tenant_id = ?", [a.tenant.id]),
            );
        },
      }),
    },
    "audit.cursor": {
      allowed: ADMINS,
      prepare: async (actor) => ({
        act: () => callerFor(actor).audit.cursor({ limit: 1000, tenant: tenantFor(actor) }),
        verify: async ({ allowed, result }) => {
          if (!allowed) return;
          const events = (result as { results: { tenantId: string }[] }).results;
          const total = await countOf("select count(*) as n from audit_events where tenant_id = ?", [a.tenant.id]);
          expect(events).toHaveLength(Math.min(total, 1000));
          expect(events.every((e) => e.tenantId === a.tenant.id)).toBe(true);
        },
      }),
    },
  };

  const cases = Object.entries(RULES).flatMap(([procedure, rule]) =>
    ACTORS.map((actor) => {
      const allowed = rule.allowed.includes(actor);
      const expectation = allowed ? "allowed" : actor === "anonymous" ? "UNAUTHORIZED" : "FORBIDDEN";
      return { procedure, actor, allowed, expectation, rule };
    }),
  );

  it("covers every procedure of the router (the superusers' ops router has its own suite)", () => {
    const procedures = Object.keys(appRouter._def.procedures).filter((path) => !path.startsWith("ops."));
    expect(Object.keys(RULES).sort()).toEqual(procedures.sort());
  });

  it.each(cases)("$procedure by $actor: $expectation", async ({ actor, allowed, rule }) => {
    const prepared = await rule.prepare(actor);
    if (allowed) {
      const result = await prepared.act();
      await prepared.verify?.({ allowed, result });
      return;
    }
    const error = await failure(prepared.act());
    if (actor === "anonymous") {
      expect(error.code).toBe("UNAUTHORIZED");
      expect(error.message).toBe(NO_CREDENTIALS);
      expect(errorDetails(error).authentication).toBe("missing");
    } else {
      expect(error.code).toBe("FORBIDDEN");
      expect(error.message).toBe(NO_PERMISSION);
    }
    await prepared.verify?.({ allowed, result: undefined });
  });

  describe("a superuser names the tenant", () => {
    it("invite.create without tenant is BAD_REQUEST naming tenant, and creates nothing", async () => {
      const email = `${unique("unnamed")}@matrix.example.com`;
      const error = await failure(su.caller.invite.create({ email, role: null }));
      expect(error.code).toBe("BAD_REQUEST");
      expect(fieldErrorsOf(error)).toEqual({ tenant: ["This field is required."] });
      expect((await su.caller.invite.list()).filter((i) => i.email === email)).toEqual([]);
    });

    it("user.list without tenant is BAD_REQUEST naming tenant", async () => {
      const error = await failure(su.caller.user.list());
      expect(error.code).toBe("BAD_REQUEST");
      expect(Object.keys(fieldErrorsOf(error))).toEqual(["tenant"]);
    });

    it("accepts the tenant by id or by slug, and scopes to it", async () => {
      const other = await signUp(h);
      const byId = await su.caller.invite.create({ email: "by-id@matrix.example.com", tenant: other.tenant.id });
      const bySlug = await su.caller.invite.create({ email: "by-slug@matrix.example.com", tenant: other.tenant.slug });
      expect([byId.tenantId, bySlug.tenantId]).toEqual([other.tenant.id, other.tenant.id]);
      const users = await su.caller.user.list({ tenant: other.tenant.slug });
      expect(users.map((u) => u.id)).toEqual([other.adminId]);
      expect((await su.caller.user.list({ tenant: other.tenant.id })).map((u) => u.id)).toEqual([other.adminId]);
      const invitations = await su.caller.invite.list({ tenant: other.tenant.slug });
      expect(invitations.map((i) => i.id).sort()).toEqual([byId.id, bySlug.id].sort());
      const assignments = await su.caller.role.list({ tenant: other.tenant.id });
      expect(assignments.map((x) => x.userId)).toEqual([other.adminId]);
    });

    it("a tenant that does not exist is BAD_REQUEST naming tenant", async () => {
      for (const tenant of ["no-such-tenant", randomUUID()]) {
        const error = await failure(su.caller.invite.create({ email: "ghost@matrix.example.com", tenant }));
        expect(error.code).toBe("BAD_REQUEST");
        expect(Object.keys(fieldErrorsOf(error))).toEqual(["tenant"]);
      }
    });
  });

  describe("tenant isolation: an ADMIN of tenant B against tenant A", () => {
    async function twoTenants() {
      const tenantA = await signUp(h);
      const tenantB = await signUp(h);
      const viewerA = await addMember(h, tenantA.admin, "viewer@a.example.com", "VIEWER");
      const viewerB = await addMember(h, tenantB.admin, "viewer@b.example.com", "VIEWER");
      const pendingA = await tenantA.admin.invite.create({ email: "pending@a.example.com", role: "ANALYST" });
      const pendingB = await tenantB.admin.invite.create({ email: "pending@b.example.com", role: "ANALYST" });
      /** Everything a caller could change in A, read by A's admin. */
      const stateOfA = async () => ({
        tenant: await tenantA.admin.tenant.get({ id: tenantA.tenant.id }),
        users: await tenantA.admin.user.list(),
        roles: await tenantA.admin.role.list(),
        invitations: await tenantA.admin.invite.list(),
      });
      return { tenantA, tenantB, viewerA, viewerB, pendingA, pendingB, stateOfA };
    }

    function expectNotFound(error: TRPCError) {
      expect(error.code).toBe("NOT_FOUND");
      expect(error.message).toBe("Not found.");
    }

    it("tenant.get of A, by id or slug, is NOT_FOUND", async () => {
      const { tenantA, tenantB } = await twoTenants();
      expectNotFound(await failure(tenantB.admin.tenant.get({ id: tenantA.tenant.id })));
      expectNotFound(await failure(tenantB.admin.tenant.get({ id: tenantA.tenant.slug })));
      // Same answer as for a tenant that does not exist.
      expectNotFound(await failure(tenantB.admin.tenant.get({ id: randomUUID() })));
      expect(await tenantB.admin.tenant.get({ id: tenantB.tenant.slug })).toMatchObject({ id: tenantB.tenant.id });
    });

    it("invite.revoke of A's invitation is NOT_FOUND and A's invitation stays pending", async () => {
      const { tenantB, pendingA, stateOfA } = await twoTenants();
      const before = await stateOfA();
      expectNotFound(await failure(tenantB.admin.invite.revoke({ id: pendingA.id })));
      expect(await stateOfA()).toEqual(before);
      expect(before.invitations.find((i) => i.id === pendingA.id)?.status).toBe("pending");
    });

    it("invite.extend of A's invitation is NOT_FOUND and its expiry is unchanged", async () => {
      const { tenantB, pendingA, stateOfA } = await twoTenants();
      const before = await stateOfA();
      h.clock.advance(60_000);
      expectNotFound(await failure(tenantB.admin.invite.extend({ id: pendingA.id, days: 30 })));
      expect(await stateOfA()).toEqual(before);
    });

    it("role.grant to a user of A is BAD_REQUEST on userId and A's roles are unchanged", async () => {
      const { tenantB, viewerA, stateOfA } = await twoTenants();
      const before = await stateOfA();
      const error = await failure(tenantB.admin.role.grant({ userId: viewerA.user.id, role: "ADMIN" }));
      expect(error.code).toBe("BAD_REQUEST");
      expect(fieldErrorsOf(error)).toEqual({ userId: [`Invalid pk "${viewerA.user.id}" - object does not exist.`] });
      expect(await stateOfA()).toEqual(before);
    });

    it("role.revoke of A's assignment is NOT_FOUND and the assignment stays", async () => {
      const { tenantA, tenantB, viewerA, stateOfA } = await twoTenants();
      const before = await stateOfA();
      const [viewerRole] = await tenantA.admin.role.list({ userId: viewerA.user.id });
      const [adminRole] = await tenantA.admin.role.list({ role: "ADMIN" });
      for (const assignment of [viewerRole, adminRole]) {
        expect(assignment).toBeDefined();
        expectNotFound(await failure(tenantB.admin.role.revoke({ id: assignment?.id ?? "" })));
      }
      expect(await stateOfA()).toEqual(before);
    });

    it("invite.create naming tenant A is FORBIDDEN, by slug or id, and no invitation is created anywhere", async () => {
      const { tenantA, tenantB, stateOfA } = await twoTenants();
      const before = await stateOfA();
      const invitationsOfB = await tenantB.admin.invite.list();
      for (const tenant of [tenantA.tenant.slug, tenantA.tenant.id, tenantA.tenant.slug.toUpperCase()]) {
        const error = await failure(tenantB.admin.invite.create({ email: "intruder@b.example.com", tenant }));
        expect(error.code).toBe("FORBIDDEN");
        expect(error.message).toBe(NO_PERMISSION);
      }
      expect(await stateOfA()).toEqual(before);
      expect(await tenantB.admin.invite.list()).toEqual(invitationsOfB);
      // Naming the own tenant is fine.
      const own = await tenantB.admin.invite.create({ email: "own@b.example.com", tenant: tenantB.tenant.slug });
      expect(own.tenantId).toBe(tenantB.tenant.id);
    });

    it("role.grant naming tenant A is FORBIDDEN and grants nothing", async () => {
      const { tenantA, tenantB, viewerB, stateOfA } = await twoTenants();
      const before = await stateOfA();
      const error = await failure(
        tenantB.admin.role.grant({ userId: viewerB.user.id, role: "ANALYST", tenant: tenantA.tenant.slug }),
      );
      expect(error.code).toBe("FORBIDDEN");
      expect(await stateOfA()).toEqual(before);
      expect((await tenantB.admin.role.list({ userId: viewerB.user.id })).map((x) => x.role)).toEqual(["VIEWER"]);
    });

    it("reads naming tenant A still see only B (user.list, role.list, invite.list)", async () => {
      const { tenantA, tenantB, viewerB, pendingA, pendingB } = await twoTenants();
      for (const reader of [tenantB.admin, viewerB.caller]) {
        for (const tenant of [tenantA.tenant.slug, tenantA.tenant.id]) {
          const users = await reader.user.list({ tenant });
          expect(users.map((u) => u.id).sort()).toEqual([tenantB.adminId, viewerB.user.id].sort());
          const roles = await reader.role.list({ tenant });
          expect(new Set(roles.map((x) => x.tenantId))).toEqual(new Set([tenantB.tenant.id]));
          expect(roles.map((x) => x.userId).sort()).toEqual([tenantB.adminId, viewerB.user.id].sort());
        }
      }
      for (const tenant of [tenantA.tenant.slug, tenantA.tenant.id]) {
        const invitations = await tenantB.admin.invite.list({ tenant });
        expect(invitations).toEqual(await tenantB.admin.invite.list());
        expect(new Set(invitations.map((i) => i.tenantId))).toEqual(new Set([tenantB.tenant.id]));
        expect(invitations.map((i) => i.id)).toContain(pendingB.id);
        expect(invitations.map((i) => i.id)).not.toContain(pendingA.id);
      }
    });

    it("role.list filtered by a user of A returns nothing to B", async () => {
      const { tenantB, viewerA } = await twoTenants();
      expect(await tenantB.admin.role.list({ userId: viewerA.user.id })).toEqual([]);
    });
  });
});
