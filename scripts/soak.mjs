// `npm run soak`: mixed traffic at a fixed rate against the real server for
// minutes (apps/server/src/reliability/soak.test.ts), with its RSS and
// event-loop delay recorded; prints a summary with PASS or FAIL.
// SOAK_SECONDS (default 180) and SOAK_RATE (requests/s, default 40) tune it.
// It runs on the local PostgreSQL when it answers, else on the embedded database.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ensureInstalled, root, say } from "./workspace.mjs";

ensureInstalled();

const seconds = process.env.SOAK_SECONDS ?? "180";
const rate = process.env.SOAK_RATE ?? "40";
say(`Soaking the server with ${rate} requests/s for ${seconds} s...`);
const result = spawnSync(
  join(root, "node_modules", ".bin", "vitest"),
  ["run", "--project", "server", "apps/server/src/reliability/soak.test.ts"],
  { cwd: root, stdio: "inherit", env: { ...process.env, SOAK_SECONDS: seconds, SOAK_RATE: rate } },
);
let summary;
try {
  summary = JSON.parse(readFileSync(join(root, ".test-results", "soak.json"), "utf8"));
} catch {
  summary = undefined;
}
if (summary && Number(seconds) >= 60) {
  say(`Summary (also in .test-results/soak.json):`);
  say(
    `  requests ${summary.requests} in ${summary.seconds} s (${summary.achievedRate}/s), statuses ${JSON.stringify(summary.statuses)}`,
  );
  say(
    `  RSS after warm-up ${summary.rssMiB.first} -> ${summary.rssMiB.last} MiB (max ${summary.rssMiB.max}), slope ${summary.rssSlopeMiBPerMin} MiB/min (limit ${summary.limits.rssSlopeMiBPerMin}); heap slope ${summary.heapSlopeMiBPerMin} MiB/min`,
  );
  say(
    `  request p50 ${summary.requestMs.p50} ms, p99 ${summary.requestMs.p99} ms (limit ${summary.limits.requestP99Ms}), max ${summary.requestMs.max} ms`,
  );
  say(
    `  event-loop delay p50 ${summary.loopDelayMs.p50} ms, p99 ${summary.loopDelayMs.p99} ms (limit ${summary.limits.loopDelayP99Ms}), max ${summary.loopDelayMs.max} ms`,
  );
  say(`  5xx ${summary.serverErrors}, failed ${summary.failed}, dropped ${summary.dropped}`);
}
const pass = result.status === 0 && summary?.pass === true;
say(`Soak ${pass ? "PASS" : "FAIL"}`);
process.exit(pass ? 0 : 1);
