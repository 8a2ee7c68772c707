// `npm test`: install what is missing, lint, type-check, build, then run every
// test. Tests use the local PostgreSQL when it answers (a fresh database per
// test file) and the embedded PGlite as well; without PostgreSQL they run on
// PGlite alone, and say so.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { ensureInstalled, root, say, turbo } from "./workspace.mjs";

ensureInstalled();

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
  say(`PostgreSQL is not answering at ${shown.host}: every test runs on the embedded PGlite only.`);
  say("Start PostgreSQL or set TEST_DATABASE_URL to run the PostgreSQL half too.");
}

say("Lint, type-check and build...");
turbo(["run", "lint", "typecheck", "build", "--output-logs=errors-only"]);

const resultsDir = join(root, ".test-results");
mkdirSync(resultsDir, { recursive: true });
const resultsFile = join(resultsDir, "vitest.json");
const vitest = spawnSync(
  join(root, "node_modules", ".bin", "vitest"),
  ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${resultsFile}`, ...process.argv.slice(2)],
  {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, TEST_DATABASE_URL: serverUrl, TENANTRY_TEST_BACKEND: postgres ? "postgres" : "embedded" },
  },
);

try {
  const results = JSON.parse(readFileSync(resultsFile, "utf8"));
  const skipped = results.numPendingTests + results.numTodoTests;
  say(`Database: ${postgres ? `PostgreSQL at ${shown.host} and embedded PGlite` : "embedded PGlite only"}.`);
  // The plain closing line CI reads.
  process.stdout.write(
    `tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped\n`,
  );
  if (results.numTotalTests === 0) {
    say("No test ran.");
    process.exit(1);
  }
} catch {
  say("vitest wrote no results.");
}
process.exit(vitest.status ?? 1);

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
