// `npm test`: install what is missing, lint, type-check, build, then run every
// test. Tests use the local PostgreSQL when it answers (a fresh database per
// test file), and the database suites run again on the embedded PGlite; without
// PostgreSQL every suite PGlite can run runs on it alone, and the run says so.
// Either way the run lists what did not run on PGlite, and why.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative } from "node:path";
import { ensureInstalled, root, say, turbo } from "./workspace.mjs";

ensureInstalled();

// The console's browser suite needs a Chromium; without one, say so first and last (never silently).
const chromium = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find(
  (path) => path && existsSync(path),
);
const NO_CHROMIUM =
  "NO CHROMIUM FOUND: the web console's browser suite (apps/web/e2e) DID NOT RUN. Install it (apt-get install -y chromium) or set CHROMIUM_PATH.";
if (!chromium) say(NO_CHROMIUM);

/**
 * The database suites run a second time on the embedded PGlite, which `npm start`
 * serves on. (The db package's suites run on both databases by themselves, and
 * lifecycle.test.ts always runs the server on a data directory.)
 */
const EMBEDDED_SUITES = [
  "apps/server/src/runbook.test.ts",
  "apps/server/src/domain/sign-up-guards.test.ts",
  "apps/server/src/domain/invitation-guards.test.ts",
  "apps/server/src/domain/role-guards.test.ts",
  "apps/server/src/domain/login-session-guards.test.ts",
  "apps/server/src/domain/input-guards.test.ts",
  "apps/server/src/paging.test.ts",
  "apps/server/src/cursor-paging.test.ts",
  "apps/server/src/query-budget.test.ts",
  "apps/server/src/mail/delivery.test.ts",
  "apps/server/src/mail/hook.test.ts",
  "apps/server/src/mail/in-flight.test.ts",
  "apps/server/src/mail/recovery.test.ts",
  "apps/server/src/secrets.test.ts",
  "apps/server/src/concurrency.test.ts",
  "apps/server/src/throttle.test.ts",
  "apps/server/src/domain/audit-events.test.ts",
  "apps/server/src/domain/audit-transactions.test.ts",
  "apps/server/src/domain/audit-append-only.test.ts",
  "apps/server/src/domain/audit-reading.test.ts",
  "apps/server/src/health.test.ts",
  "apps/server/src/cli.test.ts",
];

/**
 * Suites PGlite cannot run, and why: it is one process per data directory
 * (a lock file), so nothing else may open a database a process holds.
 * Without PostgreSQL they are not run at all; every run says so.
 */
const NOT_ON_EMBEDDED = {
  "apps/server/src/scale-out.test.ts": "two server processes on one database",
  "apps/server/src/cli-ops.test.ts":
    "the test process keeps the database open (seeding, checking) while CLI processes run on it, several at once",
};

const serverUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const shown = new URL(serverUrl);
shown.password = "";
const postgres = await postgresAnswers(serverUrl);
if (postgres) {
  say(`Tests use PostgreSQL at ${shown.host} (a fresh database per test file), and the embedded PGlite.`);
} else if (process.env.CI) {
  say(`PostgreSQL is not answering at ${shown.host}; CI requires it. Set TEST_DATABASE_URL or start it.`);
  process.exit(1);
} else {
  say(`PostgreSQL is not answering at ${shown.host}: the tests run on the embedded PGlite only,`);
  say(`except ${Object.keys(NOT_ON_EMBEDDED).length} suites that need PostgreSQL (listed at the end).`);
  say("Start PostgreSQL or set TEST_DATABASE_URL to run the PostgreSQL half too.");
}

say("Lint, type-check and build...");
turbo(["run", "lint", "typecheck", "build", "--output-logs=errors-only"]);

const resultsDir = join(root, ".test-results");
mkdirSync(resultsDir, { recursive: true });

/** Runs vitest; returns its exit status and what its JSON report counted. */
function vitest(name, backend, args) {
  const resultsFile = join(resultsDir, `${name}.json`);
  const started = Date.now();
  const run = spawnSync(
    join(root, "node_modules", ".bin", "vitest"),
    ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${resultsFile}`, ...args],
    {
      cwd: root,
      stdio: "inherit",
      env: { ...process.env, TEST_DATABASE_URL: serverUrl, TENANTRY_TEST_BACKEND: backend, TENANTRY_TEST_BUILT: "1" },
    },
  );
  say(
    `The ${name === "all" ? "whole" : name} run (on ${backend}) took ${Math.round((Date.now() - started) / 1000)} s.`,
  );
  try {
    const report = JSON.parse(readFileSync(resultsFile, "utf8"));
    // Skipped tests say why in their names (see apps/server/src/test-support/backend.ts).
    const skippedTests = report.testResults.flatMap((file) =>
      file.assertionResults
        .filter((test) => test.status === "skipped" || test.status === "pending")
        .map((test) => `${relative(root, file.name)}: ${test.fullName}`),
    );
    return {
      backend,
      skippedTests,
      status: run.status ?? 1,
      passed: report.numPassedTests,
      failed: report.numFailedTests,
      skipped: report.numPendingTests + report.numTodoTests,
      total: report.numTotalTests,
    };
  } catch {
    say(`vitest (${name}) wrote no results.`);
    return { backend, skippedTests: [], status: run.status || 1, passed: 0, failed: 0, skipped: 0, total: 0 };
  }
}

const embeddedOnly = !postgres;
const excluded = embeddedOnly ? Object.keys(NOT_ON_EMBEDDED).flatMap((suite) => ["--exclude", suite]) : [];
// Every test, on PostgreSQL when it answers (else PGlite, without what PGlite cannot run).
const runs = [vitest("all", embeddedOnly ? "embedded" : "postgres", [...excluded, ...process.argv.slice(2)])];
// The database suites once more on the embedded database, which is what `npm start` serves on.
if (postgres && process.argv.length <= 2) {
  say("The database suites again, on the embedded PGlite...");
  runs.push(vitest("embedded", "embedded", ["--project", "server", ...EMBEDDED_SUITES]));
}
if (process.argv.length <= 2) {
  say("Not run on the embedded PGlite (PostgreSQL only; PGlite allows one process per data directory):");
  for (const [suite, reason] of Object.entries(NOT_ON_EMBEDDED)) say(`  ${suite}: ${reason}`);
  const pgliteRun = runs.find((run) => run.backend === "embedded");
  for (const test of pgliteRun?.skippedTests ?? []) say(`  ${test}`);
}

// The web console in headless Chromium against the built server (apps/web/e2e).
if (chromium && process.argv.length <= 2) {
  say("The web console's browser suite, in headless Chromium...");
  runs.push(browserSuite());
}

const sum = (key) => runs.reduce((total, run) => total + run[key], 0);
say(`Database: ${postgres ? `PostgreSQL at ${shown.host}, and embedded PGlite` : "embedded PGlite only"}.`);
if (!chromium) say(NO_CHROMIUM);
// The plain closing line CI reads.
process.stdout.write(`tests: ${sum("passed")} passed, ${sum("failed")} failed, ${sum("skipped")} skipped\n`);
if (sum("total") === 0) {
  say("No test ran.");
  process.exit(1);
}
process.exit(runs.some((run) => run.status !== 0) ? 1 : 0);

/** Runs apps/web/scripts/e2e.mjs; returns its exit status and the counts it wrote. */
function browserSuite() {
  const resultsFile = join(resultsDir, "e2e.json");
  const run = spawnSync(process.execPath, [join(root, "apps", "web", "scripts", "e2e.mjs")], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, TEST_DATABASE_URL: serverUrl, CHROMIUM_PATH: chromium, E2E_RESULTS: resultsFile },
  });
  try {
    const { passed, failed, skipped, total } = JSON.parse(readFileSync(resultsFile, "utf8"));
    return { status: run.status ?? 1, passed, failed, skipped, total };
  } catch {
    say("The browser suite wrote no results.");
    return { status: run.status || 1, passed: 0, failed: 1, skipped: 0, total: 1 };
  }
}

async function postgresAnswers(url) {
  const require = createRequire(join(root, "packages", "db", "package.json"));
  const { Client } = require("pg");
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}
