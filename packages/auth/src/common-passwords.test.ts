import { describe, expect, it } from "vitest";
import { commonPasswordList, isCommonPassword } from "./common-passwords.js";

describe("common password list", () => {
  it("ships at least 10,000 entries", () => {
    expect(commonPasswordList().size).toBeGreaterThanOrEqual(10_000);
  });

  it("skips the header comment and blank lines", () => {
    for (const entry of commonPasswordList()) {
      expect(entry.startsWith("#")).toBe(false);
      expect(entry).not.toBe("");
    }
  });

  it("contains well-known common passwords", () => {
    for (const password of ["password", "123456", "password1", "qwerty123", "iloveyou", "letmein", "trustno1"]) {
      expect(isCommonPassword(password)).toBe(true);
    }
  });

  it("compares case-insensitively", () => {
    expect(isCommonPassword("QWERTY123")).toBe(true);
  });

  it("does not flag an uncommon password", () => {
    expect(isCommonPassword("Xk9#mQ2v-tenantry")).toBe(false);
  });
});
