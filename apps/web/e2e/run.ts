// The console's browser suite: the real built server on a fresh PostgreSQL
// database, driven through the runbook in headless Chromium as people use it.
// Writes its counts to E2E_RESULTS (JSON) for `npm test`'s closing line.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, postgresAvailable, type TestDatabase } from "@tenantry/db/testing";
import { type Browser, chromium, type Page } from "playwright-core";
import {
  accessibilityProblems,
  builtAlready,
  CHROMIUM_ARGS,
  findChromium,
  type RunningServer,
  startServer,
  writeMailHook,
} from "./harness.ts";
import { runbook } from "./runbook.ts";

export interface Suite {
  browser: Browser;
  server: RunningServer;
  db: TestDatabase;
  outbox: string;
  serverEnv: Record<string, string>;
  /** Checks the page as it stands: its heading, axe, the script policy; takes its screenshots when asked. */
  check(page: Page, name: string): Promise<void>;
}

export interface Step {
  name: string;
  run(suite: Suite): Promise<void>;
}

const say = (line: string) => process.stdout.write(`[e2e] ${line}\n`);
const shotsDir = process.env.CONSOLE_SHOTS;
const results = { passed: 0, failed: 0, skipped: 0, total: 0, seconds: 0 };

function finish(status: number): never {
  if (process.env.E2E_RESULTS) writeFileSync(process.env.E2E_RESULTS, JSON.stringify(results));
  process.exit(status);
}

const chromiumPath = findChromium();
if (!chromiumPath) {
  say("NO CHROMIUM FOUND (set CHROMIUM_PATH or apt-get install chromium): the browser suite did not run.");
  finish(0);
}
const notBuilt = builtAlready();
if (notBuilt) {
  say(`${notBuilt}: build first (npm test does).`);
  results.failed = 1;
  finish(1);
}
if (!(await postgresAvailable())) {
  say("PostgreSQL is not answering: the browser suite needs it (it changes the database under the server). Not run.");
  finish(0);
}

const started = Date.now();
const work = mkdtempSync(join(tmpdir(), "tenantry-e2e-"));
const outbox = join(work, "outbox.jsonl");
const hook = join(work, "mail-hook.mjs");
writeMailHook(hook, outbox);
if (shotsDir) mkdirSync(shotsDir, { recursive: true });

const db = await createTestDatabase("postgres");
const url = db.target.kind === "postgres" ? db.target.url : "";
const serverEnv = {
  DATABASE_URL: url,
  DATA_DIR: join(work, "data"),
  SECRET_KEY: "e2e-secret-key-that-is-long-enough-0123456789",
};
let server: RunningServer | undefined;
let browser: Browser | undefined;
let status = 0;
try {
  server = await startServer({ ...serverEnv, THROTTLE: "off", EMAIL_HOOK: hook });
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS });
  const suite: Suite = { browser, server, db, outbox, serverEnv, check: checkPage };
  say(`Chromium ${browser.version()} against ${server.url}`);
  let broken = false;
  for (const step of runbook) {
    results.total += 1;
    if (broken) {
      results.skipped += 1;
      say(`- ${step.name} (skipped: an earlier step failed)`);
      continue;
    }
    const stepStarted = Date.now();
    try {
      await step.run(suite);
      results.passed += 1;
      say(`✓ ${step.name} (${Date.now() - stepStarted} ms)`);
    } catch (error) {
      results.failed += 1;
      broken = true;
      status = 1;
      say(`✗ ${step.name}\n${(error as Error).stack ?? error}`);
      for (const [contextIndex, context] of browser.contexts().entries()) {
        for (const [index, page] of context.pages().entries()) {
          const path = join(tmpdir(), `tenantry-e2e-failure-${contextIndex}-${index}.png`);
          await page.screenshot({ path }).catch(() => {});
          say(`  page ${index} at ${page.url()} (screenshot ${path})`);
        }
      }
    }
  }
} catch (error) {
  status = 1;
  results.failed += 1;
  say(`the suite could not run: ${(error as Error).stack ?? error}\n${server?.output() ?? ""}`);
} finally {
  await browser?.close().catch(() => {});
  await server?.stop();
  await db.drop().catch(() => {});
  rmSync(work, { recursive: true, force: true });
}
results.seconds = Math.round((Date.now() - started) / 100) / 10;
say(`${results.passed} passed, ${results.failed} failed, ${results.skipped} skipped in ${results.seconds} s`);
finish(status);

async function checkPage(page: Page, name: string): Promise<void> {
  await page.getByRole("heading", { level: 1 }).first().waitFor();
  await page
    .getByText("Loading…")
    .first()
    .waitFor({ state: "detached", timeout: 10_000 })
    .catch(() => {});
  const problems = await accessibilityProblems(page);
  const blocked = (page as Page & { cspViolations?: string[] }).cspViolations ?? [];
  if (problems.length || blocked.length) {
    throw new Error(`${name}: ${[...problems, ...blocked].join("\n")}`);
  }
  if (!shotsDir) return;
  const size = page.viewportSize() ?? { width: 1280, height: 800 };
  await page.screenshot({ path: join(shotsDir, `${name}-1280.png`), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(shotsDir, `${name}-390.png`), fullPage: true });
  await page.setViewportSize(size);
}
