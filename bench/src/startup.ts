import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./processes.js";
import { round, spread } from "./stats.js";

/** `npm start` to `/readyz` 200, on the embedded database: medians of a few starts. */
export interface StartTimes {
  /** With a data directory that already holds the (migrated) database. */
  existingMs: number;
  /** With an empty data directory: the database is created first. */
  freshMs: number;
  existingSamples: number[];
  freshSamples: number[];
}

const POLL_MS = 50;
const TIMEOUT_MS = 120_000;

/**
 * One `node scripts/start.mjs` (what `npm start` runs) on an installed,
 * built checkout, from spawn to the first `/readyz` 200, polled every 50 ms;
 * then the server is stopped (SIGTERM) and its exit awaited.
 */
export async function timeOneStart(root: string, dataDir: string): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [join(root, "scripts", "start.mjs")], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? tmpdir(),
      NODE_ENV: "production",
      LOG_LEVEL: "warn",
      HOST: "127.0.0.1",
      PORT: String(port),
      DATA_DIR: dataDir,
      SECRET_KEY: randomBytes(32).toString("hex"),
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let exitedEarly = false;
  void exited.then(() => {
    exitedEarly = true;
  });
  try {
    for (;;) {
      if (exitedEarly) throw new Error(`npm start exited before it was ready:\n${stderr}`);
      if (performance.now() - started > TIMEOUT_MS) throw new Error(`npm start not ready after ${TIMEOUT_MS} ms`);
      try {
        const response = await fetch(`http://127.0.0.1:${port}/readyz`);
        await response.arrayBuffer();
        if (response.status === 200) return performance.now() - started;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    if (!exitedEarly) child.kill("SIGTERM");
    await exited;
  }
}

/** `runs` starts on a fresh data directory each, and `runs` on one that already exists (created by a first start). */
export async function measureStartTimes(root: string, runs: number): Promise<StartTimes> {
  const dirs: string[] = [];
  const newDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "tenantry-bench-start-"));
    dirs.push(dir);
    return dir;
  };
  try {
    const existing = newDir();
    await timeOneStart(root, existing);
    const freshSamples: number[] = [];
    const existingSamples: number[] = [];
    for (let i = 0; i < runs; i++) {
      existingSamples.push(await timeOneStart(root, existing));
      freshSamples.push(await timeOneStart(root, join(newDir(), "data")));
    }
    return {
      existingMs: round(spread(existingSamples).p50, 0),
      freshMs: round(spread(freshSamples).p50, 0),
      existingSamples: existingSamples.map((ms) => round(ms, 0)),
      freshSamples: freshSamples.map((ms) => round(ms, 0)),
    };
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}
