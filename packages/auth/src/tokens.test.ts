import { describe, expect, it } from "vitest";
import {
  constantTimeEqualHex,
  createInvitationToken,
  createSessionToken,
  generateSecureRandomString,
  hashInvitationToken,
  hashSecret,
  parseSessionToken,
} from "./tokens.js";

const RANDOM_STRING = /^[a-km-np-z2-9]{24}$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

describe("generateSecureRandomString", () => {
  it("returns 24 characters of the unambiguous alphabet", () => {
    for (let i = 0; i < 1_000; i++) {
      expect(generateSecureRandomString()).toMatch(RANDOM_STRING);
    }
  });

  it("does not repeat over many draws", () => {
    const draws = new Set(Array.from({ length: 10_000 }, () => generateSecureRandomString()));
    expect(draws.size).toBe(10_000);
  });

  it("uses every character of the alphabet", () => {
    const seen = new Set(Array.from({ length: 1_000 }, () => generateSecureRandomString()).join(""));
    expect([...seen].sort().join("")).toBe("23456789abcdefghijkmnpqrstuvwxyz");
  });
});

describe("hashSecret", () => {
  it("is lower-case hex SHA-256", () => {
    expect(hashSecret("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(hashSecret(generateSecureRandomString())).toMatch(HEX_SHA256);
  });
});

describe("constantTimeEqualHex", () => {
  it("compares strings", () => {
    const hash = hashSecret("secret");
    expect(constantTimeEqualHex(hash, hashSecret("secret"))).toBe(true);
    expect(constantTimeEqualHex(hash, hashSecret("Secret"))).toBe(false);
    expect(constantTimeEqualHex(hash, `${hash.slice(0, 63)}${hash.endsWith("0") ? "1" : "0"}`)).toBe(false);
  });

  it("returns false for different lengths", () => {
    const hash = hashSecret("secret");
    expect(constantTimeEqualHex(hash, hash.slice(0, 63))).toBe(false);
    expect(constantTimeEqualHex(hash, `${hash}0`)).toBe(false);
    expect(constantTimeEqualHex(hash, "")).toBe(false);
  });
});

describe("session tokens", () => {
  it("joins id and secret and stores only the secret's hash", () => {
    const { id, secret, token, secretHash } = createSessionToken();
    expect(id).toMatch(RANDOM_STRING);
    expect(secret).toMatch(RANDOM_STRING);
    expect(id).not.toBe(secret);
    expect(token).toBe(`${id}.${secret}`);
    expect(secretHash).toMatch(HEX_SHA256);
    expect(secretHash).toBe(hashSecret(secret));
  });

  it("parses a token it created", () => {
    const created = createSessionToken();
    expect(parseSessionToken(created.token)).toEqual({ id: created.id, secret: created.secret });
  });

  it("rejects malformed tokens", () => {
    const { id, secret } = createSessionToken();
    const malformed = [
      "",
      ".",
      id,
      `${id}.`,
      `.${secret}`,
      `${id}${secret}`,
      `${id}.${secret}.${secret}`,
      `${id}:${secret}`,
      `${id.slice(1)}.${secret}`,
      `${id}.${secret}a`,
      `${id.toUpperCase()}.${secret}`,
      `l${id.slice(1)}.${secret}`,
      `o${id.slice(1)}.${secret}`,
      `0${id.slice(1)}.${secret}`,
      `1${id.slice(1)}.${secret}`,
      ` ${id}.${secret}`,
      `${id}.${secret}\n`,
      `${id}.${secret.slice(0, 23)}-`,
    ];
    for (const token of malformed) {
      expect(parseSessionToken(token), JSON.stringify(token)).toBeNull();
    }
  });
});

describe("invitation tokens", () => {
  it("is 32 random bytes in base64url without padding, stored as its SHA-256", () => {
    const { token, tokenHash } = createInvitationToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, "base64url")).toHaveLength(32);
    expect(tokenHash).toMatch(HEX_SHA256);
    expect(tokenHash).toBe(hashInvitationToken(token));
    expect(tokenHash).toBe(hashSecret(token));
  });

  it("does not repeat over many draws", () => {
    const tokens = new Set(Array.from({ length: 10_000 }, () => createInvitationToken().token));
    expect(tokens.size).toBe(10_000);
  });

  it("hashes different tokens differently", () => {
    expect(hashInvitationToken("a")).not.toBe(hashInvitationToken("b"));
  });
});
