import { parseArgs } from "node:util";

export interface BenchOptions {
  /** Measured repetitions of every load scenario; medians are reported. */
  runs: number;
  /** Seconds of each measured load run. */
  duration: number;
  /** Seconds of load before each measured run, not counted. */
  warmup: number;
  connections: number;
  /** Iterations of each sequential (one request at a time) measurement. */
  iterations: number;
  /** Sequential requests per tenant in the scale comparison. */
  scaleIterations: number;
  /** Assignments of the large tenant in the scale comparison. */
  scaleAssignments: number;
  /** Before each measured run, wait up to this many seconds for others' work to stop (0: never wait). */
  quietWait: number;
  embedded: boolean;
  /** Starts of `npm start` per start-time measurement (existing and fresh data directory); 0: skip. */
  startRuns: number;
  scale: boolean;
  /** The cursor-paging comparison (issue #16), and the audit events of its tenant. */
  cursor: boolean;
  cursorEvents: number;
  /** Sequential requests of each page in the cursor-paging comparison (each a few ms). */
  cursorIterations: number;
  quick: boolean;
  /** The product server's LOG_LEVEL (production runs often use info: one line per request). */
  logLevel: string;
  /** Profile mode: run the product under load with --cpu-prof into this directory, then summarize. */
  profileDir: string | undefined;
  /** What profile mode loads: the product's REST list, tRPC list, /api/users/me/, or the floor's list. */
  profileTarget: "rest" | "trpc" | "me" | "floor";
  /** Where the results go. */
  output: string;
  /** The PostgreSQL server that gets the bench's own databases. */
  postgresUrl: string;
}

const USAGE = `npm run bench -- [options]

  --quick               smoke mode: 1 run of 2 s after 1 s warm-up, few iterations (about a minute)
  --runs N              measured runs per load scenario, medians reported (default 3)
  --duration S          seconds per measured run (default 10)
  --warmup S            seconds of warm-up before each measured run (default 3)
  --connections N       autocannon connections (default 16)
  --iterations N        sequential samples of login, invite + accept, tenant creation (default 30)
  --scale-assignments N assignments in the large tenant of the scale comparison (default 100000)
  --quiet-wait S        before each run, wait up to S s for the machine to be quiet (≤ 15 % busy)
                        when something else is using it (default 20, --quick 10; 0: never wait)
  --no-embedded         skip the embedded-database section
  --start-runs N        npm start to /readyz timings, existing and fresh DATA_DIR, medians reported
                        (default 3, --quick 1; 0: skip)
  --no-scale            skip the 100 vs 100,000 assignment comparison
  --cursor-events N     audit events of the tenant whose first and last pages by cursor are compared
                        (default 1000000, --quick 100000)
  --no-cursor           skip the cursor-paging comparison
  --log-level LEVEL     the product server's LOG_LEVEL (default warn)
  --profile             instead of the suite: profile the product under load (node --cpu-prof)
                        and print where its time goes
  --profile-dir DIR     where the .cpuprofile goes (default /tmp/tenantry-prof)
  --profile-target T    rest | trpc | me | floor (default rest; floor profiles the floor's list)
  --output FILE         results JSON (default bench/results/latest.json)

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres), the
server on which the bench creates (and afterwards drops) its own databases.`;

export function parseOptions(argv: string[], defaultOutput: string): BenchOptions {
  const { values } = parseArgs({
    args: argv.filter((arg) => arg !== "--"),
    options: {
      quick: { type: "boolean", default: false },
      runs: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      connections: { type: "string" },
      iterations: { type: "string" },
      "scale-assignments": { type: "string" },
      "quiet-wait": { type: "string" },
      "no-embedded": { type: "boolean", default: false },
      "start-runs": { type: "string" },
      "no-scale": { type: "boolean", default: false },
      "cursor-events": { type: "string" },
      "no-cursor": { type: "boolean", default: false },
      "log-level": { type: "string", default: "warn" },
      profile: { type: "boolean", default: false },
      "profile-dir": { type: "string" },
      "profile-target": { type: "string", default: "rest" },
      output: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: false,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const quick = values.quick === true;
  const target = values["profile-target"];
  if (target !== "rest" && target !== "trpc" && target !== "me" && target !== "floor")
    throw new Error(`--profile-target: ${target}?`);
  return {
    quick,
    runs: count(values.runs, quick ? 1 : 3, "--runs"),
    duration: count(values.duration, quick ? 2 : 10, "--duration"),
    warmup: count(values.warmup, quick ? 1 : 3, "--warmup", 0),
    connections: count(values.connections, 16, "--connections"),
    iterations: count(values.iterations, quick ? 5 : 30, "--iterations"),
    scaleIterations: quick ? 30 : 200,
    scaleAssignments: count(values["scale-assignments"], 100_000, "--scale-assignments", 200),
    quietWait: count(values["quiet-wait"], quick ? 10 : 20, "--quiet-wait", 0),
    embedded: !values["no-embedded"],
    startRuns: count(values["start-runs"], quick ? 1 : 3, "--start-runs", 0),
    scale: !values["no-scale"],
    cursor: !values["no-cursor"],
    cursorEvents: count(values["cursor-events"], quick ? 100_000 : 1_000_000, "--cursor-events", 1000),
    cursorIterations: quick ? 100 : 300,
    logLevel: values["log-level"] ?? "warn",
    profileDir: values.profile || values["profile-dir"] ? (values["profile-dir"] ?? "/tmp/tenantry-prof") : undefined,
    profileTarget: target,
    output: values.output ?? defaultOutput,
    postgresUrl: process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
  };
}

function count(value: string | undefined, fallback: number, name: string, min = 1): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < min) throw new Error(`${name} must be a number ≥ ${min}, not ${value}`);
  return parsed;
}
