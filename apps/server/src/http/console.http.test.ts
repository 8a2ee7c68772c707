import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONSOLE_CSP, registerConsole } from "./console.js";

/** The console's files and page fallback, on a host that also routes an API path. */
describe("serving the web console", () => {
  let dir: string;
  let app: FastifyInstance;
  const html = { accept: "text/html,application/xhtml+xml" };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tenantry-console-"));
    mkdirSync(join(dir, "assets"));
    writeFileSync(join(dir, "index.html"), "<!doctype html><title>Tenantry</title>");
    writeFileSync(join(dir, "assets", "index-Bx3k9aQ_.js"), "console.info(1)");
    writeFileSync(join(dir, "favicon.svg"), "<svg/>");
    app = Fastify();
    app.get("/api/users/", async () => ({ results: [] }));
    expect(registerConsole(app, dir)).toBe(true);
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves the page at / with a strict policy, revalidated on every visit", async () => {
    const reply = await app.inject({ url: "/", headers: html });
    expect(reply.statusCode).toBe(200);
    expect(reply.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(reply.headers["cache-control"]).toBe("no-cache");
    expect(reply.headers["content-security-policy"]).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).toContain("frame-ancestors 'none'");
  });

  it("caches hashed assets for a year and other files not at all", async () => {
    const script = await app.inject({ url: "/assets/index-Bx3k9aQ_.js" });
    expect(script.statusCode).toBe(200);
    expect(script.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(script.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    const icon = await app.inject({ url: "/favicon.svg" });
    expect(icon.headers["cache-control"]).toBe("no-cache");
    expect((await app.inject({ method: "HEAD", url: "/assets/index-Bx3k9aQ_.js" })).statusCode).toBe(200);
  });

  it("answers the console's routes with the page, for browsers asking for HTML", async () => {
    for (const url of ["/members", "/accept-invite?token=abc", "/platform/tenants/x"]) {
      const reply = await app.inject({ url, headers: html });
      expect(reply.statusCode, url).toBe(200);
      expect(reply.body, url).toContain("<title>Tenantry</title>");
      expect(reply.headers["content-security-policy"], url).toBe(CONSOLE_CSP);
    }
  });

  it("leaves the API, the probes, missing assets and non-page requests to their own 404", async () => {
    const cases = [
      { url: "/api/nope/", headers: html },
      { url: "/trpc", headers: html },
      { url: "/healthz/x", headers: html },
      { url: "/assets/gone-12345678.js", headers: html },
      { url: "/members", headers: { accept: "application/json" } },
      { url: "/members", method: "POST" as const, headers: html },
    ];
    for (const { url, method, headers } of cases) {
      const reply = await app.inject({ url, method: method ?? "GET", headers });
      expect(reply.statusCode, url).toBe(404);
      expect(reply.headers["content-type"], url).toContain("application/json");
    }
    expect((await app.inject({ url: "/api/users/" })).json()).toEqual({ results: [] });
  });

  it("starts without a build, serving nothing at /", async () => {
    const bare = Fastify();
    expect(registerConsole(bare, join(dir, "missing"))).toBe(false);
    expect((await bare.inject({ url: "/", headers: html })).statusCode).toBe(404);
    await bare.close();
  });
});
