// The console's browser suite (apps/web/e2e): needs the built server and web
// console, PostgreSQL, and a Chromium (Debian's /usr/bin/chromium or
// CHROMIUM_PATH). Says loudly when there is no Chromium.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const web = fileURLToPath(new URL("..", import.meta.url));
const run = spawnSync(process.execPath, ["--conditions=@tenantry/source", "--import", "tsx", "e2e/run.ts"], {
  cwd: web,
  stdio: "inherit",
  env: process.env,
});
process.exit(run.status ?? 1);
