import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Api } from "./api.js";
import { measureCursorPaging } from "./cursor.js";
import { type BenchDatabase, createDatabase, growTenantBySql, withClient } from "./database.js";
import { type LoadRun, type LoadSettings, type LoadTarget, measureOnce, summarize } from "./load.js";
import { type BenchOptions, parseOptions } from "./options.js";
import { cleanup, freePort, onCleanup, type ServerProcess, startServerProcess, waitForQuiet } from "./processes.js";
import { findProfile, formatProfile, summarizeProfile } from "./profile.js";
import { evaluateTargets, formatReport, type Results, type ScaleSide } from "./report.js";
import { createTenantWithAdmin, type SeededTenant, seedTenant } from "./seed.js";
import { measureHashCost, measureSequential } from "./sequential.js";
import { measureStartTimes } from "./startup.js";
import { round, spread } from "./stats.js";

const benchDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const root = resolve(benchDir, "..");
/** What `npm start` runs: the bundled server (apps/server/scripts/bundle.mjs). */
const SERVER_MAIN = join(root, "apps", "server", "dist", "bundle", "main.js");
const FLOOR_MAIN = join(benchDir, "src", "floor.mjs");
const MAIN_TENANT = { users: 50, assignments: 60 };
const SMALL_SCALE = 100;
const LIST = "/api/user-roles/";
const TRPC_LIST = "/trpc/role.list";
const ME = "/api/users/me/";
const PAGED = "/api/user-roles/?limit=50";
const POOL_SIZE = 10;
/** One key for the product and the floor: the product's mail worker opens the floor's sealed invitation tokens too. */
const SECRET_KEY = randomBytes(32).toString("hex");
/** Busy share of the machine (all cores) above which someone else is using it. */
const QUIET_THRESHOLD = 0.15;

function say(message: string): void {
  process.stderr.write(`\x1b[1m[bench]\x1b[0m ${message}\n`);
}

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The PostgreSQL backends serving one database (the pools' connections), by pid. */
function backendsOf(options: BenchOptions, database: BenchDatabase): () => Promise<number[]> {
  return () =>
    withClient(options.postgresUrl, async (client) => {
      const { rows } = await client.query<{ pid: number }>(
        "select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()",
        [database.name],
      );
      return rows.map((row) => row.pid);
    });
}

async function benchDatabase(options: BenchOptions): Promise<BenchDatabase> {
  const db = await createDatabase(options.postgresUrl);
  onCleanup(() => db.drop());
  return db;
}

/** The product, built, as a process of its own: production mode, throttles off. */
async function startProduct(
  name: string,
  options: BenchOptions,
  database: BenchDatabase | null,
  nodeFlags: string[] = [],
): Promise<ServerProcess> {
  const port = await freePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? tmpdir(),
    NODE_ENV: "production",
    THROTTLE: "off",
    LOG_LEVEL: options.logLevel,
    HOST: "127.0.0.1",
    PORT: String(port),
    DATA_DIR: tempDir("tenantry-bench-data-"),
    SECRET_KEY,
  };
  if (database) env.DATABASE_URL = database.url;
  return startServerProcess({
    name,
    args: [...nodeFlags, SERVER_MAIN],
    env,
    cwd: tempDir("tenantry-bench-cwd-"),
    readyPath: "/readyz",
    port,
    timeoutMs: 120_000,
  });
}

async function startFloor(database: BenchDatabase, nodeFlags: string[] = []): Promise<ServerProcess> {
  const port = await freePort();
  return startServerProcess({
    name: "floor",
    args: [...nodeFlags, FLOOR_MAIN],
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      NODE_ENV: "production",
      PORT: String(port),
      DATABASE_URL: database.url,
      POOL_SIZE: String(POOL_SIZE),
      SECRET_KEY,
    },
    cwd: benchDir,
    readyPath: "/healthz",
    port,
  });
}

/** The floor must answer exactly what the product answers, byte for byte, or the comparison means nothing. */
async function checkFloorMatches(product: ServerProcess, floor: ServerProcess, token: string): Promise<void> {
  for (const path of [LIST, ME]) {
    const [ours, theirs] = await Promise.all(
      [product, floor].map(async (server) => {
        const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
        const body = await response.text();
        if (response.status !== 200) throw new Error(`${server.name} ${path} answered ${response.status}: ${body}`);
        return body;
      }),
    );
    if (ours !== theirs) {
      throw new Error(
        `the floor's ${path} differs from the product's:\n${String(ours).slice(0, 400)}\n${String(theirs).slice(0, 400)}`,
      );
    }
  }
  const unauthorized = await new Api(floor.url).call("GET", LIST, { token: `${token.slice(0, -1)}x` });
  if (unauthorized.status !== 401) throw new Error(`the floor accepted a wrong secret (${unauthorized.status})`);
}

/** Every target `runs` times, interleaved, so drift over the run touches them all alike. */
async function measureAll(targets: LoadTarget[], options: BenchOptions): Promise<Map<LoadTarget, LoadRun[]>> {
  const settings: LoadSettings = {
    connections: options.connections,
    duration: options.duration,
    warmup: options.warmup,
  };
  const runs = new Map<LoadTarget, LoadRun[]>(targets.map((target) => [target, []]));
  for (let run = 1; run <= options.runs; run++) {
    for (const target of targets) {
      const quiet = await waitForQuiet(QUIET_THRESHOLD, options.quietWait * 1000);
      if (quiet.waitedMs > 1500) {
        say(
          `waited ${round(quiet.waitedMs / 1000, 0)} s for the machine to be quiet (${round(quiet.busy * 100, 0)}% busy)`,
        );
      }
      const result = {
        ...(await measureOnce(target, settings)),
        quietWaitMs: quiet.waitedMs,
        busyBeforeRun: quiet.busy,
      };
      runs.get(target)?.push(result);
      say(
        `run ${run}/${options.runs} ${target.label}: ${round(result.reqPerSec, 0)} req/s, p50 ${round(result.p50)} ms, ` +
          `CPU ${round(result.cpuMsPerReq, 3)} ms/req${result.non2xx + result.errors ? `, ${result.non2xx} non-2xx, ${result.errors} errors` : ""}`,
      );
    }
  }
  return runs;
}

function summaryOf(runs: Map<LoadTarget, LoadRun[]>, target: LoadTarget) {
  return summarize(target.label, target.path, runs.get(target) ?? []);
}

async function measureScale(
  options: BenchOptions,
  database: BenchDatabase,
  product: ServerProcess,
): Promise<NonNullable<Results["scale"]>> {
  const backends = backendsOf(options, database);
  const api = new Api(product.url);
  const sides: { tenant: SeededTenant; assignments: number }[] = [];
  for (const size of [SMALL_SCALE, options.scaleAssignments]) {
    const tenant = await createTenantWithAdmin(api, `scale-${size}`);
    say(`growing a tenant to ${size.toLocaleString("en-US")} assignments by SQL...`);
    const grown = await growTenantBySql(database.url, tenant.id, size);
    const page = await api.expect<{ count: number; results: unknown[] }>("GET", PAGED, 200, { token: tenant.token });
    if (page.count !== size || page.results.length !== 50) {
      throw new Error(
        `the scale tenant lists ${page.count} assignments (${page.results.length} in the page), not ${size}`,
      );
    }
    sides.push({ tenant, assignments: grown.assignments });
  }
  // Sequential latency, alternating between the two tenants.
  await waitForQuiet(QUIET_THRESHOLD, options.quietWait * 1000);
  const samples: number[][] = sides.map(() => []);
  for (let i = 0; i < options.scaleIterations + 10; i++) {
    for (const [index, side] of sides.entries()) {
      const started = performance.now();
      await api.expect("GET", PAGED, 200, { token: side.tenant.token });
      if (i >= 10) samples[index]?.push(performance.now() - started);
    }
  }
  const targets = sides.map(
    (side): LoadTarget => ({
      label: `paged list, ${side.assignments.toLocaleString("en-US")} assignments`,
      server: product,
      path: PAGED,
      token: side.tenant.token,
      backends,
    }),
  );
  const runs = await measureAll(targets, options);
  const [small, large] = sides.map((side, index): ScaleSide => {
    const { p50, p90, samples: n } = spread(samples[index] ?? []);
    return {
      assignments: side.assignments,
      sequential: { p50: round(p50), p90: round(p90), samples: n },
      load: summaryOf(runs, targets[index] as LoadTarget),
    };
  });
  return { seededBySql: true, path: PAGED, small: small as ScaleSide, large: large as ScaleSide };
}

async function measureEmbedded(options: BenchOptions, complaints: string[]): Promise<NonNullable<Results["embedded"]>> {
  say("starting the product on the embedded database (PGlite) and seeding it through the API...");
  const product = await startProduct("product (embedded)", options, null);
  try {
    const tenant = await seedTenant(new Api(product.url), "bench-embedded", MAIN_TENANT);
    const targets: LoadTarget[] = [
      { label: "product REST GET /api/user-roles/", server: product, path: LIST, token: tenant.token, backends: null },
      {
        label: "product tRPC GET /trpc/role.list",
        server: product,
        path: TRPC_LIST,
        token: tenant.token,
        backends: null,
      },
      { label: "product REST GET /api/users/me/", server: product, path: ME, token: tenant.token, backends: null },
    ];
    const runs = await measureAll(targets, options);
    const [restList, trpcList, restMe] = targets.map((target) => summaryOf(runs, target));
    if (!restList || !trpcList || !restMe) throw new Error("missing embedded results");
    return { restList, trpcList, restMe };
  } finally {
    complaints.push(...product.complaints());
    await product.stop();
  }
}

async function postgresVersion(url: string): Promise<string> {
  return withClient(url, async (client) => {
    const { rows } = await client.query("show server_version");
    return `PostgreSQL ${String(rows[0]?.server_version ?? "?").split(" ")[0]}`;
  });
}

async function runSuite(options: BenchOptions): Promise<void> {
  const startedAt = new Date().toISOString();
  await waitForQuiet(QUIET_THRESHOLD, options.quietWait * 1000);
  say(`measuring one Argon2id hash (@tenantry/auth)...`);
  const hash = await measureHashCost(options.quick ? 5 : 20);

  const database = await benchDatabase(options);
  say(`database ${database.name}; starting the product and the floor...`);
  const product = await startProduct("product", options, database);
  const floor = await startFloor(database);
  const api = new Api(product.url);
  say(
    `seeding a tenant through the REST API: ${MAIN_TENANT.users} users, ${MAIN_TENANT.assignments} role assignments...`,
  );
  const tenant = await seedTenant(api, "bench-main", MAIN_TENANT);
  await checkFloorMatches(product, floor, tenant.token);

  const backends = backendsOf(options, database);
  const loadTargets: LoadTarget[] = [
    {
      label: "floor GET /api/user-roles/ (node:http + pg)",
      server: floor,
      path: LIST,
      token: tenant.token,
      backends,
    },
    { label: "product REST GET /api/user-roles/", server: product, path: LIST, token: tenant.token, backends },
    {
      label: "product tRPC GET /trpc/role.list",
      server: product,
      path: TRPC_LIST,
      token: tenant.token,
      backends,
    },
    {
      label: "floor GET /api/users/me/ (node:http + pg)",
      server: floor,
      path: ME,
      token: tenant.token,
      backends,
    },
    { label: "product REST GET /api/users/me/", server: product, path: ME, token: tenant.token, backends },
  ];
  say(
    `load: ${options.runs} run(s) × ${loadTargets.length} scenarios × (${options.warmup} s warm-up + ${options.duration} s)...`,
  );
  const runs = await measureAll(loadTargets, options);
  const [floorList, restList, trpcList, floorMe, restMe] = loadTargets.map((target) => summaryOf(runs, target));
  if (!floorList || !restList || !trpcList || !floorMe || !restMe) throw new Error("missing load results");

  say(`sequential latencies: ${options.iterations} × login, invite, accept, tenant creation...`);
  const seqTenant = await createTenantWithAdmin(api, "bench-seq");
  await waitForQuiet(QUIET_THRESHOLD, options.quietWait * 1000);
  const floorSeqTenant = await createTenantWithAdmin(api, "bench-floor-seq");
  await waitForQuiet(QUIET_THRESHOLD, options.quietWait * 1000);
  const [sequential, floorSequential] = await measureSequential(
    [
      { api, serverPid: product.pid, tenant: seqTenant, login: true },
      { api: new Api(floor.url), serverPid: floor.pid, tenant: floorSeqTenant, login: false },
    ],
    options.iterations,
  );
  if (!sequential || !floorSequential) throw new Error("missing sequential results");

  const scale = options.scale ? await measureScale(options, database, product) : null;
  const cursor = options.cursor
    ? await measureCursorPaging({
        api,
        databaseUrl: database.url,
        tenant: await createTenantWithAdmin(api, "cursor-events"),
        events: options.cursorEvents,
        quick: options.quick,
        iterations: options.cursorIterations,
        waitForQuiet: async () => void (await waitForQuiet(QUIET_THRESHOLD, options.quietWait * 1000)),
        say,
      })
    : null;
  const complaints = [...product.complaints(), ...floor.complaints()];
  await Promise.all([product.stop(), floor.stop()]);
  const embedded = options.embedded ? await measureEmbedded(options, complaints) : null;
  let start: Results["start"] = null;
  if (options.startRuns > 0) {
    say(
      `start time: ${options.startRuns} × npm start (node scripts/start.mjs) to /readyz 200, existing and fresh DATA_DIR...`,
    );
    await waitForQuiet(QUIET_THRESHOLD, options.quietWait * 1000);
    start = await measureStartTimes(root, options.startRuns);
  }

  const notes = [
    "Load generator, servers and PostgreSQL share this machine's cores; compare figures within one run.",
    `The product's pool: ${POOL_SIZE} connections on PostgreSQL (its default), 4 on the embedded database; the floor's: ${POOL_SIZE}.`,
  ];
  if (scale)
    notes.push("The scale tenants were grown by direct SQL inserts (not the API) after being created through it.");
  const summaries = [
    floorList,
    restList,
    trpcList,
    floorMe,
    restMe,
    ...(scale ? [scale.small.load, scale.large.load] : []),
    ...(embedded ? [embedded.restList, embedded.trpcList, embedded.restMe] : []),
  ];
  const busiest = Math.max(...summaries.map((summary) => summary.otherLoad));
  if (busiest > 0.05) {
    notes.push(
      `Other work kept up to ${Math.round(busiest * 100)}% of the machine busy during some runs (column "other"): ` +
        "those figures are lower and noisier than on a quiet machine.",
    );
  }
  const partial: Omit<Results, "targets"> = {
    meta: {
      startedAt,
      finishedAt: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? "?",
      postgres: await postgresVersion(options.postgresUrl),
      settings: {
        runs: options.runs,
        duration: options.duration,
        warmup: options.warmup,
        connections: options.connections,
        iterations: options.iterations,
        quick: options.quick,
        logLevel: options.logLevel,
      },
      notes,
    },
    seeded: { users: tenant.users, assignments: tenant.assignments },
    hash,
    load: { floorList, restList, trpcList, floorMe, restMe },
    sequential,
    floorSequential,
    scale,
    cursor,
    embedded,
    start,
    serverComplaints: complaints,
  };
  const results: Results = { ...partial, targets: evaluateTargets(partial) };
  process.stdout.write(formatReport(results));
  mkdirSync(dirname(options.output), { recursive: true });
  writeFileSync(options.output, `${JSON.stringify(results, null, 2)}\n`);
  say(`results written to ${options.output}`);
}

/** `--profile`: the product under load with node --cpu-prof, then where its time went. */
async function runProfile(options: BenchOptions): Promise<void> {
  const dir = resolve(options.profileDir ?? "/tmp/tenantry-prof");
  mkdirSync(dir, { recursive: true });
  const before = new Set(readdirSync(dir));
  const database = await benchDatabase(options);
  const profiling = ["--cpu-prof", `--cpu-prof-dir=${dir}`];
  const ofFloor = options.profileTarget === "floor";
  const product = await startProduct("product", options, database, ofFloor ? [] : profiling);
  const tenant = await seedTenant(new Api(product.url), "bench-profile", MAIN_TENANT);
  const floor = ofFloor ? await startFloor(database, profiling) : null;
  const server = floor ?? product;
  const path = { rest: LIST, trpc: TRPC_LIST, me: ME, floor: LIST }[options.profileTarget];
  const backends = backendsOf(options, database);
  const target: LoadTarget = { label: `profiled ${path}`, server, path, token: tenant.token, backends };
  const settings = { connections: options.connections, warmup: 0 };
  await waitForQuiet(QUIET_THRESHOLD, options.quietWait * 1000);
  say(`profiling ${server.name} ${path}: ${options.warmup} s warm-up + ${options.duration} s under load...`);
  const warm = options.warmup > 0 ? await measureOnce(target, { ...settings, duration: options.warmup }) : null;
  const run = await measureOnce(target, { ...settings, duration: options.duration });
  say(`${round(run.reqPerSec, 0)} req/s under the profiler, ${round(run.cpuMsPerReq, 3)} ms CPU/req; stopping it...`);
  await server.stop();
  const written = readdirSync(dir).filter((name) => name.endsWith(".cpuprofile") && !before.has(name));
  if (!written[0]) throw new Error(`${server.name} wrote no profile into ${dir}`);
  const file = findProfile(join(dir, written[0]));
  const requests = run.responses + (warm?.responses ?? 0);
  process.stdout.write(`${formatProfile(summarizeProfile(file, requests, run.cpuMsPerReq))}\n`);
  process.stdout.write(
    `\n(${requests} requests under load, ${round(run.reqPerSec, 0)} req/s and ${round(run.cpuMsPerReq, 3)} ms CPU/req ` +
      `while profiled; ${ofFloor ? "the floor served nothing else" : `the profile also holds startup and seeding, ~${MAIN_TENANT.users * 2 + 20} requests`}.)\n`,
  );
}

async function main(): Promise<void> {
  if (!existsSync(SERVER_MAIN)) {
    throw new Error(`${SERVER_MAIN} is missing: build the server first (npm run bench does).`);
  }
  const options = parseOptions(process.argv.slice(2), join(benchDir, "results", "latest.json"));
  if (options.profileDir) await runProfile(options);
  else await runSuite(options);
}

let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    say(`${signal}: stopping the servers and dropping the bench databases...`);
    cleanup().finally(() => process.exit(130));
  });
}

try {
  await main();
} catch (error) {
  say(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
