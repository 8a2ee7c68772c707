import { readFileSync } from "node:fs";

// Beside this module in src/, and copied beside the built module by the build script.
const LIST_LOCATION = new URL("./common-passwords.txt", import.meta.url);

let commonPasswords: ReadonlySet<string> | undefined;

export function normalizeForComparison(value: string): string {
  return value.normalize("NFKC").trim().toLowerCase();
}

/** The shipped list of common passwords, read once on first use. */
export function commonPasswordList(): ReadonlySet<string> {
  if (commonPasswords === undefined) {
    const text = readFileSync(LIST_LOCATION, "utf8");
    const entries = new Set<string>();
    for (const line of text.split(/\r?\n/)) {
      if (line === "" || line.startsWith("#")) continue;
      entries.add(normalizeForComparison(line));
    }
    commonPasswords = entries;
  }
  return commonPasswords;
}

export function isCommonPassword(password: string): boolean {
  return commonPasswordList().has(normalizeForComparison(password));
}
