import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const serverDir = new URL("..", import.meta.url).pathname;

/** Runs the real entry point in a child process, as `npm start` does. */
function spawnServer(env: Record<string, string>): { child: ChildProcess; output: () => string; url: Promise<string> } {
  const child = spawn(process.execPath, ["--conditions=@tenantry/source", "--import", "tsx", "src/main.ts"], {
    cwd: serverDir,
    env: { PATH: process.env.PATH ?? "", PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)"/.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`server exited with ${code} before listening:\n${output}`)));
  });
  url.catch(() => {}); // a test that expects an early exit never awaits it
  return { child, output: () => output, url };
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
    } else child.once("exit", (code, signal) => resolve({ code, signal }));
  });
}

describe("the server process", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "tenantry-lifecycle-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`shuts down cleanly on ${signal}: exit 0, data directory unlocked, socket removed`, async () => {
      const socketsBefore = readdirSync(tmpdir()).filter((name) => name.startsWith("tenantry-pg-"));
      const server = spawnServer({ DATA_DIR: dataDir });
      try {
        const url = await server.url;
        expect((await fetch(`${url}/readyz`)).status).toBe(200);
        expect(existsSync(join(dataDir, "tenantry.lock"))).toBe(true);

        server.child.kill(signal);
        const exit = await exitOf(server.child);
        expect(exit, server.output()).toEqual({ code: 0, signal: null });
        expect(server.output()).toContain('"msg":"stopped"');
        expect(existsSync(join(dataDir, "tenantry.lock"))).toBe(false);
        const socketsAfter = readdirSync(tmpdir()).filter((name) => name.startsWith("tenantry-pg-"));
        expect(socketsAfter.filter((name) => !socketsBefore.includes(name))).toEqual([]);
        await expect(fetch(`${url}/healthz`)).rejects.toThrow();
      } finally {
        server.child.kill("SIGKILL");
      }
    });
  }

  it("refuses to start with an invalid configuration, naming the problem", async () => {
    const server = spawnServer({ DATA_DIR: dataDir, PORT: "not-a-port", DATABASE_URL: "mysql://nope" });
    const exit = await exitOf(server.child);
    expect(exit.code).toBe(2);
    expect(server.output()).toMatch(/PORT/);
    expect(server.output()).toMatch(/DATABASE_URL: must be a postgres/);
  });
});
