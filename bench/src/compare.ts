import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Api } from "./api.js";
import { createDatabase } from "./database.js";
import { type LoadRun, type LoadTarget, measureOnce } from "./load.js";
import { cleanup, freePort, onCleanup, type ServerProcess, startServerProcess } from "./processes.js";
import { createTenantWithAdmin, seedTenant } from "./seed.js";
import { median, round } from "./stats.js";

/**
 * A/B: two builds of the server (or one build with two sets of node flags)
 * on one database, under the same load, runs interleaved A B A B … so that
 * whatever else the machine does touches both alike. For judging one change
 * on a busy machine, where two separate bench runs cannot be compared.
 *
 *   node --import tsx src/compare.ts --b ../../other-checkout [--runs 6] [--duration 4]
 *   node --import tsx src/compare.ts --b-flags=--import=/tmp/variant.mjs
 */
const usage = `compare.ts [options]
  --a DIR          checkout whose built server is A (default: this one)
  --b DIR          checkout whose build is B (default: the same as A)
  --main PATH      the server inside each checkout (default apps/server/dist/bundle/main.js, what npm start runs;
                   --a-main / --b-main set one side's)
  --a-flags FLAGS  node flags for A, space-separated
  --b-flags FLAGS  node flags for B, space-separated
  --path PATH      a path to load, repeatable (default /api/user-roles/ and /trpc/role.list)
  --runs N         measured runs of each side per path (default 6)
  --duration S     seconds per measured run (default 4); --warmup S (default 1); --connections N (default 16)`;

const print = (line: string) => process.stdout.write(`${line}\n`);

const here = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const { values } = parseArgs({
  options: {
    a: { type: "string", default: here },
    b: { type: "string" },
    main: { type: "string", default: "apps/server/dist/bundle/main.js" },
    "a-main": { type: "string" },
    "b-main": { type: "string" },
    "a-flags": { type: "string", default: "" },
    "b-flags": { type: "string", default: "" },
    path: { type: "string", multiple: true },
    runs: { type: "string", default: "6" },
    duration: { type: "string", default: "4" },
    warmup: { type: "string", default: "1" },
    connections: { type: "string", default: "16" },
    help: { type: "boolean" },
  },
});
if (values.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}

const postgresUrl = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const secretKey = randomBytes(32).toString("hex");
const sides = [
  {
    name: "A",
    dir: resolve(values.a),
    main: values["a-main"] ?? values.main,
    flags: values["a-flags"].split(" ").filter(Boolean),
  },
  {
    name: "B",
    dir: resolve(values.b ?? values.a),
    main: values["b-main"] ?? values.main,
    flags: values["b-flags"].split(" ").filter(Boolean),
  },
];
const paths = values.path?.length ? values.path : ["/api/user-roles/", "/trpc/role.list"];
const settings = {
  connections: Number(values.connections),
  duration: Number(values.duration),
  warmup: Number(values.warmup),
};

async function start(side: (typeof sides)[number], databaseUrl: string): Promise<ServerProcess> {
  const main = join(side.dir, side.main);
  if (!existsSync(main)) throw new Error(`${main} is missing: build that checkout first`);
  const cwd = mkdtempSync(join(tmpdir(), "tenantry-compare-"));
  onCleanup(() => rmSync(cwd, { recursive: true, force: true }));
  const port = await freePort();
  return startServerProcess({
    name: side.name,
    args: [...side.flags, main],
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      NODE_ENV: "production",
      THROTTLE: "off",
      LOG_LEVEL: "warn",
      HOST: "127.0.0.1",
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      SECRET_KEY: secretKey,
    },
    cwd,
    readyPath: "/readyz",
    port,
  });
}

try {
  const database = await createDatabase(postgresUrl);
  onCleanup(() => database.drop());
  const a = await start(sides[0] as (typeof sides)[number], database.url);
  const tenant = await seedTenant(new Api(a.url), "compare", { users: 50, assignments: 60 });
  const b = await start(sides[1] as (typeof sides)[number], database.url);
  // Both sides serve writes before the reads are measured, as a live server has (a write can change a
  // process for good: MikroORM's flush turns on Node's promise hooks).
  for (const server of [a, b]) await createTenantWithAdmin(new Api(server.url), `compare-${server.name}`);
  const runs = new Map<string, LoadRun[]>();
  for (let run = 1; run <= Number(values.runs); run++) {
    for (const path of paths) {
      // Alternate which side goes first, so a trend over the run favours neither.
      const order = run % 2 ? [a, b] : [b, a];
      for (const server of order) {
        const target: LoadTarget = { label: server.name, server, path, token: tenant.token, backends: null };
        const result = await measureOnce(target, settings);
        if (result.non2xx || result.errors) throw new Error(`${server.name} ${path}: ${result.non2xx} non-2xx`);
        const key = `${server.name} ${path}`;
        runs.set(key, [...(runs.get(key) ?? []), result]);
        process.stderr.write(
          `run ${run} ${key}: ${round(result.reqPerSec, 0)} req/s, CPU ${round(result.cpuMsPerReq, 3)} ms/req\n`,
        );
      }
    }
  }
  for (const side of sides) print(`${side.name}: ${join(side.dir, side.main)} ${side.flags.join(" ")}`);
  print("path                  A req/s  B req/s  B/A   A CPU ms  B CPU ms  B/A");
  for (const path of paths) {
    const of = (name: string, pick: (run: LoadRun) => number) => median((runs.get(`${name} ${path}`) ?? []).map(pick));
    const [ra, rb] = [of("A", (r) => r.reqPerSec), of("B", (r) => r.reqPerSec)];
    const [ca, cb] = [of("A", (r) => r.cpuMsPerReq), of("B", (r) => r.cpuMsPerReq)];
    print(
      `${path.padEnd(20)} ${String(round(ra, 0)).padStart(8)} ${String(round(rb, 0)).padStart(8)} ${round(rb / ra, 2)
        .toFixed(2)
        .padStart(5)}` +
        ` ${round(ca, 3).toFixed(3).padStart(9)} ${round(cb, 3).toFixed(3).padStart(9)} ${round(cb / ca, 2)
          .toFixed(2)
          .padStart(5)}`,
    );
  }
} finally {
  await cleanup();
}
