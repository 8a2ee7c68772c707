import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/**
 * AES-256-GCM with the server key: how an invitation token waits in the
 * database for its email without ever resting there in plain text.
 */
export interface Sealer {
  seal(plain: string): string;
  /** The plain text, or null when it was sealed with another key or tampered with. */
  open(sealed: string): string | null;
}

const VERSION = "v1";

export function createSealer(key: Buffer): Sealer {
  if (key.length !== 32) throw new Error("the server key must be 32 bytes");
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
      return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url")}`;
    },
    open(sealed) {
      const [version, payload] = sealed.split(".");
      if (version !== VERSION || !payload) return null;
      const bytes = Buffer.from(payload, "base64url");
      if (bytes.length < 28) return null;
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, 12));
        decipher.setAuthTag(bytes.subarray(12, 28));
        return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString("utf8");
      } catch {
        return null;
      }
    },
  };
}

/**
 * The key from `SECRET_KEY` (any secret string, stretched with SHA-256), or
 * else from a key file made on first start (mode 0600). Every server process
 * of one deployment must share it: set `SECRET_KEY` when there are several.
 */
export function loadServerKey(secret: string | undefined, keyFile: string): Buffer {
  if (secret) return createHash("sha256").update(secret).digest();
  if (!existsSync(keyFile)) {
    mkdirSync(dirname(keyFile), { recursive: true });
    try {
      writeFileSync(keyFile, randomBytes(32).toString("base64"), { flag: "wx", mode: 0o600 });
    } catch (error) {
      // Another process made it first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  chmodSync(keyFile, 0o600);
  const key = Buffer.from(readFileSync(keyFile, "utf8").trim(), "base64");
  if (key.length !== 32) throw new Error(`${keyFile} does not hold a 32-byte base64 key`);
  return key;
}
