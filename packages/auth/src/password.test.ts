import { describe, expect, it } from "vitest";
import {
  hashPassword,
  passwordProblems,
  passwordVerificationCount,
  verifyPassword,
  verifyPasswordOrDummy,
  verifyPasswordPadded,
} from "./password.js";

const TOO_SHORT = "This password is too short. It must contain at least 8 characters.";
const TOO_LONG = "This password is too long. It must contain at most 1024 characters.";
const NUMERIC = "This password is entirely numeric.";
const COMMON = "This password is too common.";
const SIMILAR_EMAIL = "The password is too similar to the email.";

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function durationMs(action: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await action();
  return performance.now() - start;
}

describe("hashPassword / verifyPassword", () => {
  it("produces an Argon2id hash with the OWASP parameters", async () => {
    const hash = await hashPassword("correct horse battery staple");
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it("salts each hash", async () => {
    const [first, second] = await Promise.all([hashPassword("same password"), hashPassword("same password")]);
    expect(first).not.toBe(second);
  });

  it("verifies the right password and rejects a wrong one", async () => {
    const hash = await hashPassword("correct horse battery staple");
    expect(await verifyPassword(hash, "correct horse battery staple")).toBe(true);
    expect(await verifyPassword(hash, "correct horse battery stapler")).toBe(false);
    expect(await verifyPassword(hash, "Correct horse battery staple")).toBe(false);
  });

  it("normalizes to NFKC, so a ligature and its plain form match", async () => {
    const ligatureHash = await hashPassword("\uFB01nancial-plan");
    expect(await verifyPassword(ligatureHash, "financial-plan")).toBe(true);

    const plainHash = await hashPassword("financial-plan");
    expect(await verifyPassword(plainHash, "\uFB01nancial-plan")).toBe(true);
  });

  it("returns false instead of throwing for malformed hashes", async () => {
    for (const malformed of [
      "",
      "not-a-hash",
      "$argon2id$v=19$m=19456,t=2,p=1$broken",
      "$2b$10$abcdefghijklmnopqrstuv",
    ]) {
      await expect(verifyPassword(malformed, "whatever")).resolves.toBe(false);
    }
  });
});

describe("verifyPasswordOrDummy", () => {
  it("checks a real hash like verifyPassword", async () => {
    const hash = await hashPassword("s3cret-enough");
    expect(await verifyPasswordOrDummy(hash, "s3cret-enough")).toBe(true);
    expect(await verifyPasswordOrDummy(hash, "wrong")).toBe(false);
  });

  it("returns false for an unknown account, whatever the password", async () => {
    expect(await verifyPasswordOrDummy(null, "s3cret-enough")).toBe(false);
    expect(await verifyPasswordOrDummy(null, "tenantry-dummy-password")).toBe(false);
    expect(await verifyPasswordOrDummy(null, "")).toBe(false);
  });

  it("takes about as long for an unknown account as for a wrong password", { timeout: 60_000 }, async () => {
    const hash = await hashPassword("s3cret-enough");
    // Warm up both paths; the first dummy call also computes the dummy hash.
    await verifyPasswordOrDummy(null, "warm-up");
    await verifyPasswordOrDummy(hash, "warm-up");

    const real: number[] = [];
    const dummy: number[] = [];
    for (let run = 0; run < 7; run++) {
      real.push(await durationMs(() => verifyPasswordOrDummy(hash, "wrong password")));
      dummy.push(await durationMs(() => verifyPasswordOrDummy(null, "wrong password")));
    }
    const ratio = median(dummy) / median(real);
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });
});

describe("verifyPasswordPadded", () => {
  it("runs exactly `slots` verifications however many hashes there are, and says which hashes match", async () => {
    const [right, other] = await Promise.all([hashPassword("s3cret-enough"), hashPassword("another-one")]);
    for (const [hashes, expected] of [
      [[], []],
      [[right], [true]],
      [
        [other, right],
        [false, true],
      ],
      [
        [right, other, right],
        [true, false, true],
      ],
    ] as const) {
      const before = passwordVerificationCount();
      expect(await verifyPasswordPadded(hashes, "s3cret-enough", 3)).toEqual(expected);
      expect(passwordVerificationCount() - before).toBe(3);
    }
  });

  it("refuses more hashes than slots", async () => {
    const hash = await hashPassword("s3cret-enough");
    await expect(verifyPasswordPadded([hash, hash], "s3cret-enough", 1)).rejects.toThrow(RangeError);
  });
});

describe("passwordProblems", () => {
  it("accepts a reasonable password", () => {
    expect(passwordProblems("Xk9#mQ2v")).toEqual([]);
    expect(passwordProblems("correct horse battery staple", { email: "jane@example.com", firstName: "Jane" })).toEqual(
      [],
    );
  });

  it("rejects passwords shorter than 8 characters", () => {
    expect(passwordProblems("Xk9#mQ2")).toEqual([TOO_SHORT]);
    expect(passwordProblems("")).toEqual([TOO_SHORT]);
  });

  it("counts Unicode code points after NFKC, not UTF-16 units", () => {
    // Each emoji is two UTF-16 units but one code point.
    expect(passwordProblems("\u{1F600}".repeat(7))).toEqual([TOO_SHORT]);
    expect(passwordProblems("\u{1F600}".repeat(8))).toEqual([]);
    // "ﬃ" is one code point that NFKC expands to "ffi".
    expect(passwordProblems("\uFB03".repeat(3))).toEqual([]);
  });

  it("rejects passwords longer than 1024 characters", () => {
    expect(passwordProblems("xq".repeat(512))).toEqual([]);
    expect(passwordProblems(`${"xq".repeat(512)}z`)).toEqual([TOO_LONG]);
  });

  it("rejects entirely numeric passwords, including non-ASCII digits", () => {
    expect(passwordProblems("83920174651")).toEqual([NUMERIC]);
    expect(passwordProblems("\uFF18\uFF13\uFF19\uFF12\uFF10\uFF11\uFF17\uFF14\uFF16")).toEqual([NUMERIC]);
    expect(passwordProblems("8392017465x")).toEqual([]);
  });

  it("rejects common passwords case-insensitively and after NFKC", () => {
    for (const common of ["password1", "qwerty123", "iloveyou", "PassWord1", "ILoveYou", "\uFF50assword1"]) {
      expect(passwordProblems(common)).toEqual([COMMON]);
    }
  });

  it("reports every problem at once", () => {
    expect(passwordProblems("1234")).toEqual([TOO_SHORT, COMMON, NUMERIC]);
  });

  it("rejects a password equal to the email or its local part", () => {
    const context = { email: "Jane.Doe@Example.com" };
    expect(passwordProblems("jane.doe@example.com", context)).toEqual([SIMILAR_EMAIL]);
    expect(passwordProblems("JANE.DOE", context)).toEqual([SIMILAR_EMAIL]);
    expect(passwordProblems("jane.doe!", context)).toEqual([]);
  });

  it("rejects a password equal to the first or last name", () => {
    const context = { firstName: "Bartholomew", lastName: "Featherstonehaugh" };
    expect(passwordProblems("bartholomew", context)).toEqual(["The password is too similar to the first name."]);
    expect(passwordProblems("FEATHERSTONEHAUGH", context)).toEqual(["The password is too similar to the last name."]);
    expect(passwordProblems("bartholomew1", context)).toEqual([]);
  });

  it("ignores empty context values", () => {
    expect(passwordProblems("", { email: "", firstName: "", lastName: "" })).toEqual([TOO_SHORT]);
  });
});
