import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createTestDatabase, type TestDatabase } from "@tenantry/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = new URL("../../../../", import.meta.url).pathname;

/** Runs a command as a person would from a shell: no npm, so no workspace bin directory on PATH. */
function run(command: string, args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(command, args, {
      cwd: root,
      env: { PATH: [dirname(process.execPath), "/usr/bin", "/bin"].join(":"), ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", (error) => resolve({ code: null, stdout, stderr: String(error) }));
    child.stdin.end();
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("the CLI's entry points, outside npm", () => {
  let testDb: TestDatabase;
  let env: Record<string, string>;
  let dataDir: string | undefined;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    if (testDb.target.kind === "postgres") env = { DATABASE_URL: testDb.target.url };
    else {
      dataDir = mkdtempSync(join(tmpdir(), "tenantry-scripts-test-"));
      env = { DATA_DIR: dataDir };
    }
  });
  afterAll(async () => {
    await testDb?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("`node scripts/tenantry.mjs … --json` builds quietly and prints only the JSON on stdout", async () => {
    const migrated = await run(process.execPath, ["scripts/tenantry.mjs", "migrate"], env);
    expect(migrated.stderr).not.toMatch(/Unable to find package manager/);
    expect(migrated.code).toBe(0);
    const listed = await run(process.execPath, ["scripts/tenantry.mjs", "tenants", "list", "--json"], env);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([]);
  }, 120_000);

  it("the built CLI runs as the package's bin", async () => {
    const help = await run(join(root, "apps/server/dist/cli.js"), ["--help"], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: tenantry <command>/);
  });
});
