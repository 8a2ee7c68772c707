// Shared by the root scripts: they run on a fresh clone with only Node.js and
// npm, so they use nothing but Node's standard library until install is done.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join, relative } from "node:path";
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

/** The workspace's package directories, from pnpm-workspace.yaml's `packages:` list (`dir` or `dir/*`). */
function workspacePackages() {
  const listed = [];
  let inPackages = false;
  for (const line of readFileSync(join(root, "pnpm-workspace.yaml"), "utf8").split("\n")) {
    if (/^\S/.test(line)) inPackages = line.startsWith("packages:");
    const entry = inPackages && /^\s+-\s+["']?([^"'\s#]+)/.exec(line);
    if (entry) listed.push(entry[1]);
  }
  return listed
    .flatMap((pattern) => {
      if (!pattern.endsWith("/*")) return [join(root, pattern)];
      const parent = join(root, pattern.slice(0, -2));
      if (!existsSync(parent)) return [];
      return readdirSync(parent, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => join(parent, entry.name));
    })
    .filter((dir) => existsSync(join(dir, "package.json")));
}

function mtimeMs(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

const INSTALL_STAMP = join(root, "node_modules", ".cache", "tenantry", "install-stamp");

/**
 * Installs exactly what the lockfile names; quick when nothing is missing. pnpm
 * itself takes a good part of a second to find out that nothing is, so it is
 * not run at all when our last successful install (its stamp, dated when that
 * install began) is newer than the lockfile, the workspace file and every
 * package.json. An install by hand leaves the stamp alone: the next start
 * runs pnpm once more, which is correct either way.
 */
export function ensureInstalled() {
  const fresh = !existsSync(join(root, "node_modules", ".pnpm"));
  if (!fresh) {
    const installed = mtimeMs(INSTALL_STAMP);
    const manifests = [
      join(root, "pnpm-lock.yaml"),
      join(root, "pnpm-workspace.yaml"),
      join(root, "package.json"),
      ...workspacePackages().map((dir) => join(dir, "package.json")),
    ];
    if (Number.isFinite(installed) && manifests.every((file) => mtimeMs(file) <= installed)) return;
  }
  if (fresh) say("Installing dependencies from the lockfile (first run only)...");
  const started = Date.now() / 1000;
  pnpm(["install", "--frozen-lockfile", "--reporter", fresh ? "default" : "silent"], {
    stdio: ["inherit", process.stderr, "inherit"],
  });
  stamp(INSTALL_STAMP, "", started);
}

/** Writes a stamp file dated `seconds` (when the work it stands for began). */
function stamp(file, content, seconds) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
  utimesSync(file, seconds, seconds);
}

const BUILD_STAMP = join(root, "node_modules", ".cache", "tenantry", "build-stamp");
/** Files at the root every build reads. */
const BUILD_ROOT_INPUTS = ["package.json", "pnpm-lock.yaml", "tsconfig.base.json", "turbo.json"];

/** The newest change under `dir` (files and directories: an added or removed file changes its directory), skipping outputs. */
function newestUnder(dir) {
  let newest = mtimeMs(dir);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === "dist" || entry.name === ".turbo") continue;
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestUnder(path) : mtimeMs(path));
  }
  return newest;
}

/**
 * Builds with turbo (`args`: the `run build ...` arguments) unless nothing
 * changed since the last successful build with the same arguments: every
 * package that had a `dist` then still has it, so does every file in
 * `outputs` (paths from the root), and no file of those packages (outside
 * node_modules and dist) nor a root build input is newer than that build.
 * turbo alone takes a good part of a second to find out. A stale or unsure
 * answer always builds.
 */
export function buildIfChanged(args, message = "Building the server...", outputs = []) {
  const built = mtimeMs(BUILD_STAMP);
  const upToDate = (() => {
    if (!Number.isFinite(built)) return false;
    const stamp = JSON.parse(readFileSync(BUILD_STAMP, "utf8"));
    if (JSON.stringify(stamp.args) !== JSON.stringify(args) || !Array.isArray(stamp.packages)) return false;
    if (BUILD_ROOT_INPUTS.some((file) => mtimeMs(join(root, file)) > built)) return false;
    if (!outputs.every((file) => existsSync(join(root, file)))) return false;
    return stamp.packages.every((dir) => existsSync(join(root, dir, "dist")) && newestUnder(join(root, dir)) <= built);
  })();
  if (upToDate) return;
  say(message);
  // Stamped with the time before the build: a file changed while turbo runs is newer than the stamp.
  const started = Date.now() / 1000;
  turbo(args);
  const packages = workspacePackages()
    .filter((dir) => existsSync(join(dir, "dist")))
    .map((dir) => relative(root, dir));
  stamp(BUILD_STAMP, JSON.stringify({ args, packages }), started);
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
