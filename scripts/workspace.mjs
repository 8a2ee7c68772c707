// Shared by the root scripts: they run on a fresh clone with only Node.js and
// npm, so they use nothing but Node's standard library until install is done.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = dirname(dirname(fileURLToPath(import.meta.url)));
const PNPM_VERSION = "12.4.2";

export function say(message) {
  process.stderr.write(`\x1b[1m[tenantry]\x1b[0m ${message}\n`);
}

/** Runs a command in the repository root, inheriting the terminal; exits on failure. */
export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    say(`\`${[command, ...args].join(" ")}\` failed (exit ${result.status ?? result.signal}).`);
    process.exit(result.status ?? 1);
  }
}

/** pnpm as installed in the workspace, or through npx before the first install. */
export function pnpm(args, options) {
  const local = join(root, "node_modules", ".bin", "pnpm");
  if (existsSync(local)) run(local, args, options);
  else run("npx", ["-y", `pnpm@${PNPM_VERSION}`, ...args], options);
}

/** Installs exactly what the lockfile names; quick when nothing is missing. */
export function ensureInstalled() {
  const fresh = !existsSync(join(root, "node_modules", ".pnpm"));
  if (fresh) say("Installing dependencies from the lockfile (first run only)...");
  pnpm(["install", "--frozen-lockfile", "--reporter", fresh ? "default" : "silent"], {
    stdio: ["inherit", process.stderr, "inherit"],
  });
}

const bin = join(root, "node_modules", ".bin");

/**
 * Runs turbo from the workspace's own install. Its output goes to stderr, so a
 * command's stdout carries only that command's own output (`--json | jq`), and
 * the workspace's bin directory leads PATH, so turbo finds pnpm when a script
 * is run with plain `node` rather than through npm.
 */
export function turbo(args) {
  run(join(bin, "turbo"), args, {
    stdio: ["inherit", process.stderr, "inherit"],
    env: {
      ...process.env,
      PATH: [bin, process.env.PATH].filter(Boolean).join(delimiter),
      TURBO_TELEMETRY_DISABLED: "1",
      TURBO_NO_UPDATE_NOTIFIER: "1",
    },
  });
}
