import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failure, fieldErrorsOf } from "./test-support/errors.js";
import { addMember, createHarness, type Harness, STRONG_PASSWORD, signUp, unique } from "./test-support/harness.js";

/** Changing a password, and a member's view of their own sessions. */
describe("passwords and sessions", () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness({ throttle: false });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function loginAs(email: string, password = STRONG_PASSWORD, client = {}) {
    const { token } = await h.call(null, client).auth.login({ email, password });
    return { token, caller: h.call(token, client) };
  }

  describe("change", () => {
    it("keeps the calling session and ends every other; the new password logs in, the old one not", async () => {
      const a = await signUp(h);
      const email = `${unique("changer")}@example.com`;
      await addMember(h, a.admin, email, "VIEWER");
      const here = await loginAs(email);
      const elsewhere = await loginAs(email);
      const newPassword = "another-Strong-passphrase-7";

      await here.caller.auth.changePassword({ currentPassword: STRONG_PASSWORD, newPassword });

      expect((await here.caller.user.me()).email).toBe(email);
      const ended = await failure(elsewhere.caller.user.me());
      expect([ended.code, ended.message]).toEqual(["UNAUTHORIZED", "Invalid token."]);
      const old = await failure(h.call().auth.login({ email, password: STRONG_PASSWORD }));
      expect(fieldErrorsOf(old)).toEqual({ nonFieldErrors: ["Unable to log in with provided credentials."] });
      await loginAs(email, newPassword);
    });

    it("a wrong current password is an error on currentPassword; a weak new one on newPassword; nothing changes", async () => {
      const a = await signUp(h);
      const other = await loginAs(a.adminEmail);
      const wrong = await failure(
        a.admin.auth.changePassword({ currentPassword: "not-the-Password-1", newPassword: "fine-New-passphrase-2" }),
      );
      expect(fieldErrorsOf(wrong)).toEqual({
        currentPassword: ["Your old password was entered incorrectly. Please enter it again."],
      });
      const weak = await failure(
        a.admin.auth.changePassword({ currentPassword: STRONG_PASSWORD, newPassword: "12345678" }),
      );
      expect(Object.keys(fieldErrorsOf(weak))).toEqual(["newPassword"]);
      expect((await other.caller.user.me()).id).toBe(a.adminId);
      await loginAs(a.adminEmail);
    });
  });

  describe("sessions", () => {
    it("lists the caller's live sessions newest first, with ip, user agent and which one is current", async () => {
      const a = await signUp(h);
      const email = `${unique("many-sessions")}@example.com`;
      await addMember(h, a.admin, email, null);
      h.clock.advance(1000);
      const laptop = await loginAs(email, STRONG_PASSWORD, { ip: "198.51.100.1", userAgent: "Laptop/1.0" });
      h.clock.advance(1000);
      const phone = await loginAs(email, STRONG_PASSWORD, { ip: "198.51.100.2", userAgent: "Phone/2.0" });

      const sessions = await phone.caller.auth.sessions();
      const [newest, older] = sessions;
      expect(newest).toMatchObject({ ip: "198.51.100.2", userAgent: "Phone/2.0", current: true });
      expect(older).toMatchObject({ ip: "198.51.100.1", userAgent: "Laptop/1.0", current: false });
      // Ids, not tokens (the one addMember started is the oldest).
      expect(sessions.map((s) => s.id).slice(0, 2)).toEqual([phone.token.split(".")[0], laptop.token.split(".")[0]]);
      expect(sessions).toHaveLength(3);
      expect(JSON.stringify(sessions)).not.toContain(phone.token.split(".")[1]);
      expect(JSON.stringify(sessions)).not.toContain(laptop.token.split(".")[1]);
      expect(Date.parse(newest?.createdAt ?? "")).toBeGreaterThan(Date.parse(older?.createdAt ?? ""));
      // The other user's list does not show these.
      expect((await a.admin.auth.sessions()).map((s) => s.id)).not.toContain(newest?.id);
    });

    it("ends one session by id; anyone else's is NOT_FOUND and stays", async () => {
      const a = await signUp(h);
      const email = `${unique("end-one")}@example.com`;
      const member = await addMember(h, a.admin, email, null);
      const second = await loginAs(email);
      const [current] = (await second.caller.auth.sessions()).filter((s) => s.current);
      const other = (await member.caller.auth.sessions()).find((s) => s.current);

      const notYours = await failure(a.admin.auth.endSession({ id: other?.id ?? "" }));
      expect(notYours.code).toBe("NOT_FOUND");
      expect((await member.caller.user.me()).id).toBe(member.user.id);

      await second.caller.auth.endSession({ id: other?.id ?? "" });
      expect((await failure(member.caller.user.me())).code).toBe("UNAUTHORIZED");
      expect((await second.caller.auth.sessions()).map((s) => s.id)).toEqual([current?.id]);
      const again = await failure(second.caller.auth.endSession({ id: other?.id ?? "" }));
      expect(again.code).toBe("NOT_FOUND");
    });

    it("ends all but the current one", async () => {
      const a = await signUp(h);
      const others = [await loginAs(a.adminEmail), await loginAs(a.adminEmail)];
      await a.admin.auth.endOtherSessions();
      for (const other of others) expect((await failure(other.caller.user.me())).code).toBe("UNAUTHORIZED");
      const left = await a.admin.auth.sessions();
      expect(left).toHaveLength(1);
      expect(left[0]?.current).toBe(true);
    });
  });
});
