import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addMember, createHarness, type Harness, STRONG_PASSWORD, signUp, superuser } from "./test-support/harness.js";

/**
 * How many SQL statements each procedure sends (begin and commit included:
 * each is a round trip; every change also writes its audit event). A change
 * that adds one fails here; raise a budget only on purpose. Lists must not
 * grow with the rows they return.
 */
const BUDGET = {
  "auth.me": 1,
  "user.me": 1,
  "auth.logout": 2,
  "tenant.list": 2,
  "tenant.get": 2,
  "user.list": 2,
  "role.list": 2,
  "invite.list": 2,
  "auth.login": 2,
  "tenant.create": 2,
  "invite.create": 5,
  "invite.accept": 2,
  "invite.revoke": 6,
  "invite.extend": 6,
  "role.grant": 6,
  "role.revoke": 6,
  "role.revoke (ADMIN)": 8,
  "user.updateMe": 5,
  "user.deactivate": 9,
  "user.activate": 6,
  "user.remove": 8,
  "auth.sessions": 2,
  "auth.endSession": 5,
  "auth.endOtherSessions": 5,
  "auth.changePassword": 8,
  "invite.preview": 1,
  "invite.bulk": 8,
  "auth.requestPasswordReset": 5,
  "auth.requestPasswordReset (unknown)": 5,
  "auth.confirmPasswordReset": 8,
} as const;

type Measured = keyof typeof BUDGET;

describe("SQL statements per procedure", () => {
  let h: Harness;
  const counts = new Map<Measured, number>();

  beforeAll(async () => {
    h = await createHarness({ throttle: false });
  });
  afterAll(async () => {
    // The table for the closing note and for whoever raises a budget.
    process.stdout.write(`${[...counts].map(([name, count]) => `${name.padEnd(22)} ${count}`).join("\n")}\n`);
    await h?.close();
  });

  async function measure<T>(name: Measured, work: () => Promise<T>): Promise<T> {
    h.resetQueries();
    const result = await work();
    counts.set(name, h.queries.length);
    expect.soft(h.queries.length, `${name}:\n${h.queries.join("\n")}`).toBe(BUDGET[name]);
    return result;
  }

  it("stays within budget for every procedure", async () => {
    const { tenant, admin, adminEmail } = await signUp(h);
    const member = await addMember(h, admin, "member@example.com", "VIEWER");
    const second = await addMember(h, admin, "second@example.com", "ADMIN");

    await measure("auth.me", () => admin.auth.me());
    await measure("user.me", () => admin.user.me());
    await measure("tenant.list", () => admin.tenant.list());
    await measure("tenant.get", () => admin.tenant.get({ id: tenant.id }));
    await measure("user.list", () => admin.user.list());
    await measure("role.list", () => admin.role.list());
    await measure("invite.list", () => admin.invite.list());
    const { token } = await measure("auth.login", () =>
      h.call().auth.login({ email: adminEmail, password: STRONG_PASSWORD }),
    );
    await measure("auth.logout", () => h.call(token).auth.logout());
    await measure("tenant.create", () =>
      h.call().tenant.create({ name: "Budget Co", adminEmail: "owner@budget.example", adminPassword: STRONG_PASSWORD }),
    );
    const invitation = await measure("invite.create", () =>
      admin.invite.create({ email: "new@example.com", role: "ANALYST" }),
    );
    await measure("invite.extend", () => admin.invite.extend({ id: invitation.id, days: 3 }));
    await measure("invite.accept", () =>
      h.call().invite.accept({ token: invitation.token, password: STRONG_PASSWORD }),
    );
    const another = await admin.invite.create({ email: "later@example.com", role: null });
    await measure("invite.revoke", () => admin.invite.revoke({ id: another.id }));
    const grant = await measure("role.grant", () => admin.role.grant({ userId: member.user.id, role: "ANALYST" }));
    await measure("role.revoke", () => admin.role.revoke({ id: grant.id }));
    const secondAdmin = (await admin.role.list({ userId: second.user.id, role: "ADMIN" }))[0];
    await measure("role.revoke (ADMIN)", () => admin.role.revoke({ id: secondAdmin?.id ?? "" }));
    await measure("user.updateMe", () => member.caller.user.updateMe({ firstName: "Budget" }));
    await measure("user.deactivate", () => admin.user.deactivate({ id: member.user.id }));
    await measure("user.activate", () => admin.user.activate({ id: member.user.id }));
    await measure("user.remove", () => admin.user.remove({ id: member.user.id }));
    const extra = await h.call().auth.login({ email: adminEmail, password: STRONG_PASSWORD });
    await measure("auth.sessions", () => admin.auth.sessions());
    await measure("auth.endSession", () => admin.auth.endSession({ id: extra.token.split(".")[0] as string }));
    await measure("auth.endOtherSessions", () => admin.auth.endOtherSessions());
    const previewed = await admin.invite.create({ email: "preview@example.com", role: null });
    await measure("invite.preview", () => h.call().invite.preview({ token: previewed.token }));
    await measure("invite.bulk", () =>
      admin.invite.bulk({ invitations: [{ email: "bulk1@example.com" }, { email: "preview@example.com" }] }),
    );
    await measure("auth.changePassword", () =>
      admin.auth.changePassword({ currentPassword: STRONG_PASSWORD, newPassword: STRONG_PASSWORD }),
    );
    // An address with no account sends the very same statements as one with an account.
    await measure("auth.requestPasswordReset", () => h.call().auth.requestPasswordReset({ email: adminEmail }));
    await measure("auth.requestPasswordReset (unknown)", () =>
      h.call().auth.requestPasswordReset({ email: "nobody-here@example.com" }),
    );
    await h.deliverEmails();
    const resetUrl = h.resetEmails.at(-1)?.resetUrl ?? "";
    const resetToken = new URLSearchParams(new URL(resetUrl).hash.slice(1)).get("token") ?? "";
    await measure("auth.confirmPasswordReset", () =>
      h.call().auth.confirmPasswordReset({ token: resetToken, newPassword: "budget-Reset-phrase-2" }),
    );
  });

  it("sends as many statements for dozens of rows as for one", async () => {
    const small = await signUp(h);
    const large = await signUp(h);
    const boss = await superuser(h);
    for (let i = 0; i < 59; i++) {
      const invitation = await large.admin.invite.create({
        email: `user${i}@example.com`,
        role: i % 2 ? "VIEWER" : "ANALYST",
      });
      if (i < 30) await h.call().invite.accept({ token: invitation.token, password: STRONG_PASSWORD });
    }
    const lists = {
      "user.list": (c: typeof small) => c.admin.user.list(),
      "role.list": (c: typeof small) => c.admin.role.list(),
      "invite.list": (c: typeof small) => c.admin.invite.list(),
    };
    for (const [name, list] of Object.entries(lists)) {
      h.resetQueries();
      const few = await list(small);
      const fewQueries = h.queries.length;
      h.resetQueries();
      const many = await list(large);
      expect(many.length, name).toBeGreaterThan(few.length);
      expect(h.queries.length, name).toBe(fewQueries);
    }
    h.resetQueries();
    await boss.caller.tenant.list();
    expect(h.queries.length).toBe(BUDGET["tenant.list"]);
  });
});
