import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAY_MS } from "./domain/clock.js";
import { failure, fieldErrorsOf } from "./test-support/errors.js";
import { addMember, createHarness, type Harness, STRONG_PASSWORD, signUp, unique } from "./test-support/harness.js";

/** The accept page's preview of an invitation, and bulk invites. */
describe("invitation landing and bulk invites", () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness({ throttle: false });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function deliverAll(): Promise<void> {
    while ((await h.deliverEmails()) > 0) {
      // until the outbox is empty
    }
  }

  describe("preview", () => {
    it("shows a pending invitation's email, role, tenant, inviter and expiry, and changes nothing", async () => {
      const a = await signUp(h);
      await a.admin.user.updateMe({ firstName: "Ada", lastName: "Lovelace" });
      const invitation = await a.admin.invite.create({ email: `${unique("landing")}@example.com`, role: "ANALYST" });
      const before = await a.admin.invite.list();
      h.resetQueries();
      const preview = await h.call().invite.preview({ token: invitation.token });
      expect(preview).toEqual({
        status: "pending",
        email: invitation.email,
        role: "ANALYST",
        tenant: { name: a.tenant.name, slug: a.tenant.slug },
        invitedByName: "Ada Lovelace",
        expiresAt: invitation.expiresAt,
      });
      expect(h.queries.filter((q) => !/^\s*select/i.test(q))).toEqual([]);
      expect(await a.admin.invite.list()).toEqual(before);
      // The token still accepts.
      await h.call().invite.accept({ token: invitation.token, password: STRONG_PASSWORD });
    });

    it("names the inviter by email when they have no name, and by nothing when they are gone", async () => {
      const a = await signUp(h);
      const byEmail = await a.admin.invite.create({ email: `${unique("x")}@example.com`, role: null });
      expect(await h.call().invite.preview({ token: byEmail.token })).toMatchObject({ invitedByName: a.adminEmail });
      const inviter = await addMember(h, a.admin, `${unique("inviter")}@example.com`, "ADMIN");
      const orphan = await inviter.caller.invite.create({ email: `${unique("y")}@example.com`, role: null });
      await a.admin.user.remove({ id: inviter.user.id });
      expect(await h.call().invite.preview({ token: orphan.token })).toMatchObject({ invitedByName: null });
    });

    it("says only the status of an expired or accepted invitation", async () => {
      const a = await signUp(h);
      const accepted = await a.admin.invite.create({ email: `${unique("done")}@example.com`, role: "VIEWER" });
      await h.call().invite.accept({ token: accepted.token, password: STRONG_PASSWORD });
      expect(await h.call().invite.preview({ token: accepted.token })).toEqual({ status: "accepted" });
      const expiring = await a.admin.invite.create({ email: `${unique("late")}@example.com`, role: "VIEWER" });
      h.clock.advance(8 * DAY_MS);
      expect(await h.call().invite.preview({ token: expiring.token })).toEqual({ status: "expired" });
    });

    it("reveals nothing for a revoked token: the same NOT_FOUND as an unknown one", async () => {
      const a = await signUp(h);
      const revoked = await a.admin.invite.create({ email: `${unique("gone")}@example.com`, role: "ADMIN" });
      await a.admin.invite.revoke({ id: revoked.id });
      const replaced = await a.admin.invite.create({ email: `${unique("again")}@example.com`, role: null });
      await a.admin.invite.create({ email: replaced.email, role: null });
      const answers = [];
      for (const token of [revoked.token, replaced.token, "no-such-token-at-all"]) {
        const error = await failure(h.call().invite.preview({ token }));
        answers.push({ code: error.code, message: error.message, fields: fieldErrorsOf(error) });
      }
      expect(answers).toEqual(Array(3).fill({ code: "NOT_FOUND", message: "Not found.", fields: {} }));
    });

    it("never writes a token to the log", async () => {
      const a = await signUp(h);
      const invitation = await a.admin.invite.create({ email: `${unique("quiet")}@example.com`, role: null });
      await h.call().invite.preview({ token: invitation.token });
      await failure(h.call().invite.preview({ token: `${invitation.token}x` }));
      const log = JSON.stringify(h.logLines());
      expect(log).not.toContain(invitation.token);
    });
  });

  describe("bulk invite", () => {
    it("100 rows, some invalid: creates exactly the valid ones, in input order, and mails each exactly once", async () => {
      const a = await signUp(h);
      const member = await addMember(h, a.admin, `${unique("already")}@example.com`, null);
      const pending = await a.admin.invite.create({ email: `${unique("pending")}@example.com`, role: null });
      await deliverAll();
      h.emails.length = 0;
      const tag = unique("bulk");
      const rows: unknown[] = Array.from({ length: 100 }, (_, i) => ({
        email: `Person${i}-${tag}@Example.com`,
        role: i % 3 === 0 ? "VIEWER" : null,
      }));
      rows[5] = { email: "not-an-address" };
      rows[17] = { email: member.user.email, role: "VIEWER" };
      rows[23] = { email: `person0-${tag}@example.com` };
      rows[42] = { email: `ok42-${tag}@example.com`, role: "OWNER" };
      rows[77] = "just a string";
      rows[99] = { email: pending.email, role: "ANALYST" };
      const invalid = new Set([5, 17, 23, 42, 77]);

      h.resetQueries();
      const result = await a.admin.invite.bulk({ invitations: rows as { email: string }[] });
      const statements = h.queries.length;
      expect(result.created).toBe(95);
      expect(result.failed).toBe(5);
      expect(result.results).toHaveLength(100);
      expect(result.results[0]).toMatchObject({ email: `person0-${tag}@example.com`, invitation: { role: "VIEWER" } });
      expect(result.results[5]).toEqual({
        email: "not-an-address",
        errors: { email: ["Enter a valid email address."] },
      });
      expect(result.results[17]).toEqual({
        email: member.user.email,
        errors: { email: ["A user with this email already exists in this tenant."] },
      });
      expect(result.results[23]).toEqual({
        email: `person0-${tag}@example.com`,
        errors: { email: ["This email appears more than once in this request."] },
      });
      expect(result.results[42]).toEqual({
        email: `ok42-${tag}@example.com`,
        errors: { role: ['"OWNER" is not a valid choice.'] },
      });
      expect(result.results[77]).toEqual({
        email: "",
        errors: { nonFieldErrors: ["Invalid data. Expected a dictionary, but got str."] },
      });
      // A pending invitation is replaced, as a single invite does.
      const replacing = result.results[99];
      expect(replacing && "invitation" in replacing && replacing.invitation?.role).toBe("ANALYST");
      expect((await a.admin.invite.list()).find((i) => i.id === pending.id)?.status).toBe("revoked");

      const created = result.results.flatMap((r, i) => ("invitation" in r ? [[i, r] as const] : []));
      expect(created.map(([i]) => i)).toEqual([...Array(100).keys()].filter((i) => !invalid.has(i)));
      const pendingNow = (await a.admin.invite.list({ status: "pending" })).map((i) => i.email).sort();
      expect(pendingNow).toEqual(created.map(([, r]) => r.email).sort());

      await deliverAll();
      const mailed = h.emails.map((e) => e.to).sort();
      expect(mailed).toEqual(created.map(([, r]) => r.email).sort());
      // Each created token works, exactly as a single invite's.
      const [, first] = created[0] ?? [];
      if (first && "invitation" in first) {
        await h.call().invite.accept({ token: first.invitation?.token ?? "", password: STRONG_PASSWORD });
      }

      // The statements do not grow with the rows.
      h.resetQueries();
      await a.admin.invite.bulk({ invitations: [{ email: `single-${tag}@example.com` }] });
      expect(h.queries.length).toBe(statements);
    });

    it("an empty list or more than 100 is an error on invitations, and creates nothing", async () => {
      const a = await signUp(h);
      const empty = await failure(a.admin.invite.bulk({ invitations: [] }));
      expect(fieldErrorsOf(empty)).toEqual({ invitations: ["This list may not be empty."] });
      const rows = Array.from({ length: 101 }, (_, i) => ({ email: `over${i}@example.com` }));
      const over = await failure(a.admin.invite.bulk({ invitations: rows }));
      expect(fieldErrorsOf(over)).toEqual({ invitations: ["Ensure this field has no more than 100 elements."] });
      expect(await a.admin.invite.list()).toEqual([]);
    });

    it("records one invitation.created event per created row, in the same transaction", async () => {
      const a = await signUp(h);
      const tag = unique("audited");
      const result = await a.admin.invite.bulk({
        invitations: [{ email: `one-${tag}@example.com` }, { email: "bad" }, { email: `two-${tag}@example.com` }],
      });
      const ids = result.results.flatMap((r) => (r.invitation ? [r.invitation.id] : []));
      const events = await h.db.orm.em
        .getConnection()
        .execute<{ target_id: string }[]>(
          "select target_id from audit_events where action = 'invitation.created' and tenant_id = ? order by target_id",
          [a.tenant.id],
        );
      expect(events.map((e) => e.target_id)).toEqual([...ids].sort());
    });
  });
});
