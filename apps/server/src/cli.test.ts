import { spawn } from "node:child_process";
import { verifyPassword } from "@tenantry/auth";
import { openDatabase } from "@tenantry/db";
import { createTestDatabase, type TestDatabase } from "@tenantry/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { entryArgs } from "./test-support/process.js";

const serverDir = new URL("..", import.meta.url).pathname;

/** Runs the real CLI as a child process against the test database. */
function tenantry(args: string[], env: Record<string, string>, stdin?: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [...entryArgs("cli"), ...args], {
      cwd: serverDir,
      env: { PATH: process.env.PATH ?? "", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.stdin.end(stdin ?? "");
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

// Each command is a process that loads the code and opens the database (on PGlite, seconds).
describe("tenantry createsuperuser", { timeout: 90_000 }, () => {
  let testDb: TestDatabase;
  let target: TestDatabase["target"];
  let env: Record<string, string>;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    target = testDb.target;
    // On the embedded database the CLI opens the test's data directory; the test opens it only between commands.
    env = target.kind === "postgres" ? { DATABASE_URL: target.url } : { DATA_DIR: target.dataDir };
  });
  afterAll(async () => {
    await testDb?.drop();
  });

  async function userRow(email: string) {
    const db = await openDatabase(target, { poolSize: 1 });
    try {
      const rows = await db.orm.em
        .fork()
        .getConnection()
        .execute("select tenant_id, is_superuser, password_hash from users where email = ?", [email]);
      return rows[0] as { tenant_id: string | null; is_superuser: boolean; password_hash: string } | undefined;
    } finally {
      await db.close();
    }
  }

  it("creates a superuser of no tenant from flags", async () => {
    const result = await tenantry(
      ["createsuperuser", "--email", " Staff@Example.com ", "--password", "correct-Horse-9"],
      env,
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Superuser staff@example\.com created \(id [0-9a-f-]{36}\)\.\n$/);
    const row = await userRow("staff@example.com");
    expect(row).toMatchObject({ tenant_id: null, is_superuser: true });
    expect(await verifyPassword(row?.password_hash ?? "", "correct-Horse-9")).toBe(true);
  });

  it("reads the password from stdin and never echoes it", async () => {
    const result = await tenantry(["createsuperuser", "--email", "piped@example.com"], env, "piped-Secret-77\n");
    expect(result.code).toBe(0);
    expect(result.stdout + result.stderr).not.toContain("piped-Secret-77");
    expect(await verifyPassword((await userRow("piped@example.com"))?.password_hash ?? "", "piped-Secret-77")).toBe(
      true,
    );
  });

  it("refuses a duplicate email and a weak password with exit 1 and the reason", async () => {
    const duplicate = await tenantry(
      ["createsuperuser", "--email", "STAFF@example.com", "--password", "another-Good-1"],
      env,
    );
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain("email: A superuser with this email already exists.");
    const weak = await tenantry(["createsuperuser", "--email", "weak@example.com", "--password", "12345678"], env);
    expect(weak.code).toBe(1);
    expect(weak.stderr).toContain("This password is entirely numeric.");
    expect(await userRow("weak@example.com")).toBeUndefined();
  });

  it("answers bad usage with exit 2 and the usage text", async () => {
    for (const args of [
      ["createsuperuser"],
      ["createsuperuser", "--email", "not-an-email", "--password", "x"],
      ["nope"],
    ]) {
      const result = await tenantry(args, env);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toContain("Usage: tenantry");
    }
    const help = await tenantry(["--help"], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("createsuperuser");
  });
});
