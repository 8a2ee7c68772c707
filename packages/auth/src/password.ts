import { hash, verify } from "@node-rs/argon2";
import { isCommonPassword, normalizeForComparison } from "./common-passwords.js";

// OWASP Password Storage Cheat Sheet, Argon2id option 1. Argon2id is the library default.
const ARGON2_OPTIONS = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;

export interface PasswordContext {
  email?: string;
  firstName?: string;
  lastName?: string;
}

export async function hashPassword(password: string): Promise<string> {
  return hash(password.normalize("NFKC"), ARGON2_OPTIONS);
}

let verifications = 0;

/** How many Argon2 verifications this process has run: tests count the work of a login with it. */
export function passwordVerificationCount(): number {
  return verifications;
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  verifications += 1;
  try {
    return await verify(hash, password.normalize("NFKC"));
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;

function getDummyHash(): Promise<string> {
  dummyHash ??= hash("tenantry-dummy-password", ARGON2_OPTIONS);
  return dummyHash;
}

/**
 * Verifies against the stored hash, or against a dummy hash of the same cost when the account is unknown,
 * so that the response time does not reveal whether an email is registered.
 */
export async function verifyPasswordOrDummy(hash: string | null, password: string): Promise<boolean> {
  if (hash === null) {
    await verifyPassword(await getDummyHash(), password);
    return false;
  }
  return verifyPassword(hash, password);
}

/**
 * Verifies the password against each of `hashes`, and against the dummy hash
 * for every slot they leave empty: always exactly `slots` verifications, so
 * neither the time nor the CPU spent tells how many hashes there were.
 */
export async function verifyPasswordPadded(
  hashes: readonly string[],
  password: string,
  slots: number,
): Promise<boolean[]> {
  if (hashes.length > slots) throw new RangeError(`${hashes.length} hashes for ${slots} verification slots`);
  const padding = Array.from({ length: slots - hashes.length }, () => verifyPasswordOrDummy(null, password));
  const [verified] = await Promise.all([Promise.all(hashes.map((hash) => verifyPassword(hash, password))), ...padding]);
  return verified;
}

export function passwordProblems(password: string, context: PasswordContext = {}): string[] {
  const normalized = password.normalize("NFKC");
  const length = [...normalized].length;
  const problems: string[] = [];

  const similarTo = similarAttribute(normalized, context);
  if (similarTo !== null) {
    problems.push(`The password is too similar to the ${similarTo}.`);
  }
  if (length < MIN_PASSWORD_LENGTH) {
    problems.push(`This password is too short. It must contain at least ${MIN_PASSWORD_LENGTH} characters.`);
  }
  if (length > MAX_PASSWORD_LENGTH) {
    problems.push(`This password is too long. It must contain at most ${MAX_PASSWORD_LENGTH} characters.`);
  }
  if (isCommonPassword(normalized)) {
    problems.push("This password is too common.");
  }
  if (/^\p{Nd}+$/u.test(normalized)) {
    problems.push("This password is entirely numeric.");
  }
  return problems;
}

function similarAttribute(password: string, context: PasswordContext): string | null {
  const candidate = normalizeForComparison(password);
  const email = context.email === undefined ? "" : normalizeForComparison(context.email);
  const localPart = email.includes("@") ? email.slice(0, email.lastIndexOf("@")) : "";
  const attributes: Array<[label: string, values: string[]]> = [
    ["email", [email, localPart]],
    ["first name", [normalizeForComparison(context.firstName ?? "")]],
    ["last name", [normalizeForComparison(context.lastName ?? "")]],
  ];
  for (const [label, values] of attributes) {
    if (values.some((value) => value !== "" && value === candidate)) return label;
  }
  return null;
}
