import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";

export const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const SERVER_DIST = join(ROOT, "apps", "server", "dist");
export const WEB_DIST = join(ROOT, "apps", "web", "dist");

/** Debian's Chromium (or CHROMIUM_PATH); null when there is none. */
export function findChromium(): string | null {
  const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  return candidates.find((path): path is string => Boolean(path && existsSync(path))) ?? null;
}

/** Without these, Chromium floods the closed network with refused connections (STACK.md). */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function builtAlready(): string | null {
  if (!existsSync(join(SERVER_DIST, "main.js"))) return "apps/server is not built";
  if (!existsSync(join(WEB_DIST, "index.html"))) return "apps/web is not built";
  return null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

export interface RunningServer {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

/** The built server (`node apps/server/dist/main.js`, as `npm start` runs it), once it answers /readyz. */
export async function startServer(env: Record<string, string>): Promise<RunningServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [join(SERVER_DIST, "main.js")], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      NODE_ENV: "production",
      HOST: "127.0.0.1",
      PORT: String(port),
      APP_URL: url,
      LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`the server exited with ${code}:\n${output}`))),
  );
  exited.catch(() => {});
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ready = await Promise.race([
      fetch(`${url}/readyz`).then(
        (reply) => reply.ok,
        () => false,
      ),
      exited,
    ]);
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`the server did not become ready:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    child,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** `tenantry createsuperuser`, through the built CLI, as an operator runs it. */
export function createSuperuser(env: Record<string, string>, email: string, password: string): void {
  const run = spawnSync(
    process.execPath,
    [join(SERVER_DIST, "cli.js"), "createsuperuser", "--email", email, "--password", password],
    { cwd: ROOT, env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "warn", ...env }, encoding: "utf8" },
  );
  if (run.status !== 0) throw new Error(`createsuperuser failed: ${run.stdout}${run.stderr}`);
}

/** An email hook module (both kinds) that appends every email it is given to a file, one JSON line each. */
export function writeMailHook(path: string, outbox: string): void {
  writeFileSync(
    path,
    `import { appendFileSync } from "node:fs";
export async function sendInvitationEmail(message) {
  appendFileSync(${JSON.stringify(outbox)}, JSON.stringify(message) + "\\n");
}
export async function sendPasswordResetEmail(message) {
  appendFileSync(${JSON.stringify(outbox)}, JSON.stringify(message) + "\\n");
}
`,
  );
}

export interface Email {
  to: string;
  tenant: { id: string; name: string; slug: string };
  role: string | null;
  expiresAt: string;
  acceptUrl: string;
}

export interface ResetEmail {
  to: string;
  tenant: { id: string; name: string; slug: string } | null;
  expiresAt: string;
  resetUrl: string;
}

/** The newest email to `to`, once the outbox has one (delivery runs after commit, off the request path). */
export async function emailTo<Kind extends { to: string } = Email>(
  outbox: string,
  to: string,
  after = 0,
): Promise<Kind> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const lines = existsSync(outbox) ? readFileSync(outbox, "utf8").split("\n").filter(Boolean) : [];
    const found = lines
      .slice(after)
      .map((line) => JSON.parse(line) as Kind)
      .filter((email) => email.to === to);
    const newest = found.at(-1);
    if (newest) return newest;
    if (Date.now() > deadline) throw new Error(`no email to ${to} arrived`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function emailCount(outbox: string): number {
  return existsSync(outbox) ? readFileSync(outbox, "utf8").split("\n").filter(Boolean).length : 0;
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/**
 * axe-core, run inside the page (evaluated through the DevTools protocol, which
 * the page's script policy does not govern): the serious and critical
 * violations, described.
 */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  await page.evaluate(`${axeSource};0`);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (context: Document, options: object) => Promise<AxeResults> } })
      .axe;
    const results = await axe.run(document, { resultTypes: ["violations"] });
    return results.violations
      .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
      .map(
        (violation) =>
          `${violation.impact} ${violation.id}: ${violation.help} (${violation.nodes
            .slice(0, 3)
            .map((node) => node.target.join(" "))
            .join("; ")})`,
      );
  });
  return violations;
}

interface AxeResults {
  violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[];
}
