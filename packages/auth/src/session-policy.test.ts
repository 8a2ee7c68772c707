import { describe, expect, it } from "vitest";
import { isExpired, SESSION_LIFETIME_MS, sessionExpiry, shouldRenew } from "./session-policy.js";

const DAY_MS = 24 * 60 * 60 * 1000;
const now = new Date("2025-03-01T12:00:00.000Z");

function plus(date: Date, ms: number): Date {
  return new Date(date.getTime() + ms);
}

describe("session policy", () => {
  it("lasts 30 days", () => {
    expect(SESSION_LIFETIME_MS).toBe(30 * DAY_MS);
    expect(sessionExpiry(now).toISOString()).toBe("2025-03-31T12:00:00.000Z");
  });

  it("does not renew a fresh session", () => {
    expect(shouldRenew(sessionExpiry(now), now)).toBe(false);
  });

  it("renews exactly when half the lifetime remains, not a millisecond before", () => {
    const expiresAt = sessionExpiry(now);
    expect(shouldRenew(expiresAt, plus(now, 15 * DAY_MS - 1))).toBe(false);
    expect(shouldRenew(expiresAt, plus(now, 15 * DAY_MS))).toBe(true);
    expect(shouldRenew(expiresAt, plus(now, 20 * DAY_MS))).toBe(true);
  });

  it("expires at the expiry instant", () => {
    const expiresAt = sessionExpiry(now);
    expect(isExpired(expiresAt, plus(expiresAt, -1))).toBe(false);
    expect(isExpired(expiresAt, expiresAt)).toBe(true);
    expect(isExpired(expiresAt, plus(expiresAt, 1))).toBe(true);
    expect(isExpired(expiresAt, now)).toBe(false);
  });
});
