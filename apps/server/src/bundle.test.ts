import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exitOf, type SpawnedServer, spawnBuiltServer } from "./test-support/process.js";
import { PASSWORD, RestClient, statusOf } from "./test-support/rest.js";

const serverDir = new URL("..", import.meta.url).pathname;
const consoleBuilt = existsSync(join(serverDir, "..", "web", "dist", "index.html"));

/**
 * `npm start` runs the server bundled (scripts/bundle.mjs). A bundled module
 * that looks for files beside itself, or for a package by a name it alone can
 * resolve, fails only when that code runs; so the bundle, made here from the
 * current source, serves on a new data directory what needs such files:
 * PGlite's worker and WebAssembly (and the migrations, loaded on demand), the
 * password hashing addon and the common-password list, Swagger UI's assets,
 * the console; and it shuts down cleanly.
 */
describe("the bundled server (what npm start runs)", { timeout: 180_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), "tenantry-bundle-"));
  const dataDir = join(work, "data");
  let server: SpawnedServer;
  let api: RestClient;

  beforeAll(async () => {
    const bundled = spawnSync(process.execPath, ["scripts/bundle.mjs", join(work, "bundle")], {
      cwd: serverDir,
      encoding: "utf8",
    });
    expect(bundled.status, bundled.stderr).toBe(0);
    server = spawnBuiltServer(join(work, "bundle", "main.js"), {
      DATA_DIR: dataDir,
      SECRET_KEY: randomBytes(32).toString("hex"),
      THROTTLE: "off",
      TMPDIR: work,
    });
    api = new RestClient(await server.url);
  });
  afterAll(() => {
    server?.child.kill("SIGKILL");
    rmSync(work, { recursive: true, force: true });
  });

  it("is ready on a new data directory, migrated", async () => {
    const ready = await api.get("/readyz");
    expect(ready.status, statusOf(ready)).toBe(200);
    expect(server.output()).toContain('"msg":"database open and migrated"');
  });

  it("signs up (refusing a common password), logs in and answers REST and tRPC reads", async () => {
    const common = await api.post("/api/tenants/", {
      name: "Acme",
      admin_email: "owner@acme.com",
      admin_password: "password1",
    });
    expect(common.status, statusOf(common)).toBe(400);
    expect(JSON.stringify(common.body)).toContain("This password is too common.");

    const created = await api.post("/api/tenants/", {
      name: "Acme",
      admin_email: "owner@acme.com",
      admin_password: PASSWORD,
    });
    expect(created.status, statusOf(created)).toBe(201);
    const login = await api.post("/api/auth/login/", { email: "owner@acme.com", password: PASSWORD });
    expect(login.status, statusOf(login)).toBe(200);
    const token: string = login.body.token;

    const roles = await api.get("/api/user-roles/", { token });
    expect(roles.status, statusOf(roles)).toBe(200);
    expect(roles.body).toMatchObject([{ role: "ADMIN", user: created.body.admin_user_id }]);
    const trpc = await api.get("/trpc/role.list", { token });
    expect(trpc.status, statusOf(trpc)).toBe(200);
    expect(trpc.body).toMatchObject({ result: { data: [{ role: "ADMIN" }] } });
  });

  it("serves the OpenAPI document, the docs page and its assets", async () => {
    const document = await api.get("/api/openapi.json");
    expect(document.status, statusOf(document)).toBe(200);
    expect(document.body.paths["/api/user-roles/"]).toBeDefined();
    const page = await api.get("/api/docs/");
    expect(page.status, statusOf(page)).toBe(200);
    const assets = [...page.text.matchAll(/<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["']/gi)];
    expect(assets.length, page.text).toBeGreaterThan(0);
    for (const [, url] of assets) {
      const asset = await fetch(new URL(url ?? "", `${api.base}/api/docs/`));
      expect(asset.status, url).toBe(200);
      expect((await asset.arrayBuffer()).byteLength, url).toBeGreaterThan(0);
    }
  });

  it.runIf(consoleBuilt)("serves the console when it is built", async () => {
    const page = await api.get("/", { headers: { accept: "text/html" } });
    expect(page.status, statusOf(page)).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
  });

  it("shuts down cleanly on SIGTERM: exit 0, data directory unlocked", async () => {
    server.child.kill("SIGTERM");
    expect(await exitOf(server.child), server.output()).toEqual({ code: 0, signal: null });
    expect(existsSync(join(dataDir, "tenantry.lock"))).toBe(false);
  });
});
