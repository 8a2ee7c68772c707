import { sha256 } from "@oslojs/crypto/sha2";
import { constantTimeEqual } from "@oslojs/crypto/subtle";
import { encodeBase64urlNoPadding, encodeHexLowerCase } from "@oslojs/encoding";

// 32 symbols without look-alikes (no l, o, 0, 1): each random byte >> 3 picks one, 5 bits per character.
const ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789";
const RANDOM_STRING_LENGTH = 24;
const RANDOM_PART = `[${ALPHABET}]{${RANDOM_STRING_LENGTH}}`;
const SESSION_TOKEN_PATTERN = new RegExp(`^(${RANDOM_PART})\\.(${RANDOM_PART})$`);

export interface CreatedSessionToken {
  id: string;
  secret: string;
  /** Sent to the client only; never stored. */
  token: string;
  /** Stored instead of the secret. */
  secretHash: string;
}

export interface ParsedSessionToken {
  id: string;
  secret: string;
}

export interface InvitationToken {
  token: string;
  tokenHash: string;
}

/** 24 characters, 120 bits of entropy. */
export function generateSecureRandomString(): string {
  const bytes = new Uint8Array(RANDOM_STRING_LENGTH);
  crypto.getRandomValues(bytes);
  let result = "";
  for (const byte of bytes) {
    result += ALPHABET.charAt(byte >> 3);
  }
  return result;
}

export function hashSecret(secret: string): string {
  return encodeHexLowerCase(sha256(new TextEncoder().encode(secret)));
}

export function constantTimeEqualHex(a: string, b: string): boolean {
  const encoder = new TextEncoder();
  return constantTimeEqual(encoder.encode(a), encoder.encode(b));
}

export function createSessionToken(): CreatedSessionToken {
  const id = generateSecureRandomString();
  const secret = generateSecureRandomString();
  return { id, secret, token: `${id}.${secret}`, secretHash: hashSecret(secret) };
}

export function parseSessionToken(token: string): ParsedSessionToken | null {
  const match = SESSION_TOKEN_PATTERN.exec(token);
  if (match === null) return null;
  const [, id, secret] = match;
  if (id === undefined || secret === undefined) return null;
  return { id, secret };
}

export function createInvitationToken(): InvitationToken {
  const bytes = new Uint8Array(32);
  crypto.getRandomValues(bytes);
  const token = encodeBase64urlNoPadding(bytes);
  return { token, tokenHash: hashInvitationToken(token) };
}

export function hashInvitationToken(token: string): string {
  return hashSecret(token);
}
