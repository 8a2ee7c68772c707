import { CURSOR_PATH, type CursorResults } from "./cursor.js";
import type { LoadSummary } from "./load.js";
import type { HashCost, SequentialResults } from "./sequential.js";
import type { StartTimes } from "./startup.js";
import { round, type Spread } from "./stats.js";

export interface ScaleSide {
  assignments: number;
  sequential: Spread;
  load: LoadSummary;
}

export interface Results {
  meta: {
    startedAt: string;
    finishedAt: string;
    node: string;
    cpus: number;
    cpuModel: string;
    postgres: string;
    settings: {
      runs: number;
      duration: number;
      warmup: number;
      connections: number;
      iterations: number;
      quick: boolean;
      logLevel: string;
    };
    notes: string[];
  };
  seeded: { users: number; assignments: number };
  hash: HashCost;
  load: {
    floorList: LoadSummary;
    restList: LoadSummary;
    trpcList: LoadSummary;
    floorMe: LoadSummary;
    restMe: LoadSummary;
  };
  sequential: SequentialResults;
  /** The floor's invite, accept and tenant creation (no login), interleaved with the product's. */
  floorSequential: SequentialResults;
  scale: { seededBySql: true; path: string; small: ScaleSide; large: ScaleSide } | null;
  /** Issue #16's growth check: first and last pages of a big audit trail by cursor (and by offset), or null when skipped. */
  cursor: CursorResults | null;
  embedded: { restList: LoadSummary; trpcList: LoadSummary; restMe: LoadSummary } | null;
  /** `npm start` to /readyz 200 on the embedded database, or null when skipped. */
  start: StartTimes | null;
  serverComplaints: string[];
  targets: Target[];
}

export interface Target {
  name: string;
  measured: string;
  limit: string;
  pass: boolean;
}

// Issue #16's targets: against the physical floor (bench/src/floor.mjs).
const TARGET_HASH_OVERHEAD_MS = 10;
const TARGET_RATIO = 0.5;
const TARGET_CPU_MS = 0.2;
const TARGET_INVITE_ACCEPT_FACTOR = 1.3;
const TARGET_TENANT_CREATE_FACTOR = 1.2;
const TARGET_START_EXISTING_MS = 1200;
const TARGET_START_FRESH_MS = 3000;
const FLAT_FACTOR = 1.5;
const CURSOR_FACTOR = 1.2;
const TARGET_CURSOR_EVENTS = 1_000_000;

export function evaluateTargets(results: Omit<Results, "targets">): Target[] {
  const { load, sequential, floorSequential, hash, scale, cursor, embedded, start } = results;
  const targets: Target[] = [];
  for (const [name, summary] of [
    ["REST list", load.restList],
    ["tRPC list", load.trpcList],
  ] as const) {
    const ratio = summary.reqPerSec / load.floorList.reqPerSec;
    targets.push({
      name: `${name} req/s ≥ ${TARGET_RATIO} × floor`,
      measured: `${fmt(summary.reqPerSec, 0)} req/s = ${fmt(ratio, 2)} × ${fmt(load.floorList.reqPerSec, 0)}`,
      limit: `≥ ${fmt(TARGET_RATIO * load.floorList.reqPerSec, 0)} req/s`,
      pass: ratio >= TARGET_RATIO,
    });
  }
  for (const [name, summary] of [
    ["REST list", load.restList],
    ["tRPC list", load.trpcList],
  ] as const) {
    targets.push({
      name: `${name}: app CPU per request ≤ ${TARGET_CPU_MS} ms`,
      measured: `${fmt(summary.cpuMsPerReq, 3)} ms (floor ${fmt(load.floorList.cpuMsPerReq, 3)} ms)`,
      limit: `≤ ${TARGET_CPU_MS} ms`,
      pass: summary.cpuMsPerReq <= TARGET_CPU_MS,
    });
  }
  for (const [name, ours, theirs, factor] of [
    ["invite + accept", sequential.inviteAndAccept, floorSequential.inviteAndAccept, TARGET_INVITE_ACCEPT_FACTOR],
    ["tenant creation", sequential.tenantCreate, floorSequential.tenantCreate, TARGET_TENANT_CREATE_FACTOR],
  ] as const) {
    targets.push({
      name: `${name} p50 ≤ ${factor} × floor`,
      measured: `${fmt(ours.p50)} ms = ${fmt(ours.p50 / theirs.p50, 2)} × ${fmt(theirs.p50)}`,
      limit: `≤ ${fmt(factor * theirs.p50)} ms`,
      pass: ours.p50 <= factor * theirs.p50,
    });
  }
  if (sequential.login) {
    const budget = hash.hashMs + TARGET_HASH_OVERHEAD_MS;
    targets.push({
      name: `login p50 ≤ one Argon2id hash + ${TARGET_HASH_OVERHEAD_MS} ms`,
      measured: `${fmt(sequential.login.p50)} ms = ${fmt(hash.hashMs)} + ${fmt(sequential.login.p50 - hash.hashMs)}`,
      limit: `≤ ${fmt(budget)} ms`,
      pass: sequential.login.p50 <= budget,
    });
  }
  if (start) {
    for (const [name, ms, limit] of [
      ["existing data", start.existingMs, TARGET_START_EXISTING_MS],
      ["fresh DATA_DIR", start.freshMs, TARGET_START_FRESH_MS],
    ] as const) {
      targets.push({
        name: `npm start to /readyz 200, ${name}, ≤ ${fmt(limit / 1000)} s`,
        measured: `${fmt(ms / 1000, 2)} s`,
        limit: `≤ ${fmt(limit / 1000)} s`,
        pass: ms <= limit,
      });
    }
  }
  const product = [
    load.restList,
    load.trpcList,
    load.restMe,
    ...(scale ? [scale.small.load, scale.large.load] : []),
    ...(embedded ? [embedded.restList, embedded.trpcList, embedded.restMe] : []),
  ];
  const bad = product.reduce((total, summary) => total + summary.non2xx + summary.errors, 0);
  targets.push({
    name: "zero non-2xx responses (and errors) under load",
    measured: `${bad} in ${product.length} product scenarios`,
    limit: "0",
    pass: bad === 0,
  });
  if (scale) {
    const ratio = scale.large.sequential.p50 / scale.small.sequential.p50;
    targets.push({
      name: `paged list flat: p50 at ${count(scale.large.assignments)} ≤ ${FLAT_FACTOR} × p50 at ${count(scale.small.assignments)}`,
      measured: `${fmt(scale.large.sequential.p50)} ms vs ${fmt(scale.small.sequential.p50)} ms = ${fmt(ratio, 2)} ×`,
      limit: `≤ ${FLAT_FACTOR} ×`,
      pass: ratio <= FLAT_FACTOR,
    });
  }
  if (cursor) targets.push(cursorTarget(cursor));
  return targets;
}

export function formatReport(results: Results): string {
  const { meta, load, sequential, hash, scale, embedded } = results;
  const out: string[] = [];
  const s = meta.settings;
  out.push(
    "",
    `Tenantry bench — ${meta.startedAt} — node ${meta.node}, ${meta.cpus} × ${meta.cpuModel}, ${meta.postgres}`,
    `Load: autocannon, ${s.connections} connections, ${s.runs} run(s) × ${s.duration} s after ${s.warmup} s warm-up each, medians of the runs.`,
    `Servers: separate processes, NODE_ENV=production THROTTLE=off LOG_LEVEL=${s.logLevel}. ` +
      `Tenant seeded through the REST API: ${results.seeded.users} users, ${results.seeded.assignments} role assignments.`,
    "CPU ms/req: the server process's utime+stime (all threads, /proc/<pid>/stat) per response; DB ms/req: the same for",
    "the PostgreSQL backends serving the bench database. other: share of the machine busy with anything else (noise).",
    "",
  );
  const floor = load.floorList.reqPerSec;
  const header = ["scenario", "req/s", "× floor", "p50 ms", "p90 ms", "CPU ms/req", "DB ms/req", "non-2xx", "other"];
  const row = (summary: LoadSummary, reference: number) => [
    summary.label,
    fmt(summary.reqPerSec, 0),
    fmt(summary.reqPerSec / reference, 2),
    fmt(summary.p50),
    fmt(summary.p90),
    fmt(summary.cpuMsPerReq, 3),
    summary.dbCpuMsPerReq === null ? "(in-proc)" : fmt(summary.dbCpuMsPerReq, 3),
    String(summary.non2xx + summary.errors),
    percent(summary.otherLoad),
  ];
  out.push(
    table(header, [
      row(load.floorList, floor),
      row(load.restList, floor),
      row(load.trpcList, floor),
      row(load.floorMe, load.floorMe.reqPerSec),
      row(load.restMe, load.floorMe.reqPerSec),
    ]),
  );
  out.push("(× floor: the list rows against the floor's list, the /me rows against the floor's /me.)", "");

  out.push(
    `Sequential latencies (one request at a time, ${sequential.invite.samples} samples each, client-side, keep-alive;`,
    " product and floor interleaved, each in a tenant of its own).",
    `One Argon2id hash (@tenantry/auth hashPassword, m=19456 KiB t=2 p=1): ${fmt(hash.hashMs)} ms p50 ` +
      `(p90 ${fmt(hash.hashP90Ms)}); one verify: ${fmt(hash.verifyMs)} ms; ${hash.samples} samples.`,
    "",
  );
  const hashes: Record<keyof SequentialResults, number> = {
    // Every login verifies a fixed number of hashes (LOGIN_VERIFICATIONS in the server's sessions.ts).
    login: 2,
    invite: 0,
    accept: 1,
    inviteAndAccept: 1,
    tenantCreate: 1,
  };
  const names: Record<keyof SequentialResults, string> = {
    login: "login (POST /api/auth/login/)",
    invite: "invite (POST /api/users/invite/)",
    accept: "accept (POST /api/users/accept-invite/)",
    inviteAndAccept: "invite + accept",
    tenantCreate: "tenant creation (POST /api/tenants/)",
  };
  out.push(
    table(
      [
        "operation",
        "p50 ms",
        "p90 ms",
        "hash + overhead (p50)",
        "server CPU ms",
        "CPU beyond hash",
        "floor p50",
        "floor CPU",
        "× floor",
      ],
      (Object.keys(names) as (keyof SequentialResults)[]).flatMap((key) => {
        const spread = sequential[key];
        if (!spread) return [];
        const floorSpread = results.floorSequential[key];
        const hashMs = hashes[key] * hash.hashMs;
        return [
          [
            names[key],
            fmt(spread.p50),
            fmt(spread.p90),
            hashMs ? `${fmt(hashMs)} + ${fmt(spread.p50 - hashMs)}` : `no hash: ${fmt(spread.p50)}`,
            fmt(spread.serverCpuMs),
            fmt(spread.serverCpuMs - hashMs),
            floorSpread ? fmt(floorSpread.p50) : "",
            floorSpread ? fmt(floorSpread.serverCpuMs) : "",
            floorSpread ? fmt(spread.p50 / floorSpread.p50, 2) : "",
          ],
        ];
      }),
    ),
    "(server CPU: the server process's CPU per call, Argon2's thread included, mean over the calls (/proc counts 10 ms ticks).",
    " Wall time beyond hash and CPU is waiting: database round trips, commits, the event loop. The floor has no login.)",
    "",
  );

  if (results.start) {
    const start = results.start;
    out.push(
      "Start: `npm start` (node scripts/start.mjs) on this installed checkout to the first /readyz 200 (polled every 50 ms),",
      `embedded database; medians of ${start.existingSamples.length}.`,
      table(
        ["data directory", "p50 s", "samples s"],
        [
          [
            "existing (migrated)",
            fmt(start.existingMs / 1000, 2),
            start.existingSamples.map((ms) => fmt(ms / 1000, 2)).join(" "),
          ],
          ["fresh (empty)", fmt(start.freshMs / 1000, 2), start.freshSamples.map((ms) => fmt(ms / 1000, 2)).join(" ")],
        ],
      ),
      "",
    );
  }

  if (scale) {
    out.push(
      `Scale: ${scale.path} (paged), tenant with ${count(scale.small.assignments)} vs ${count(scale.large.assignments)} assignments` +
        " (both grown by SQL inserts after creation through the API).",
    );
    const side = (name: string, value: ScaleSide) => [
      name,
      fmt(value.sequential.p50),
      fmt(value.sequential.p90),
      fmt(value.load.reqPerSec, 0),
      fmt(value.load.p50),
      fmt(value.load.cpuMsPerReq, 3),
      value.load.dbCpuMsPerReq === null ? "" : fmt(value.load.dbCpuMsPerReq, 3),
      String(value.load.non2xx + value.load.errors),
      percent(value.load.otherLoad),
    ];
    out.push(
      table(
        [
          "assignments",
          "seq p50 ms",
          "seq p90 ms",
          "req/s",
          "load p50 ms",
          "CPU ms/req",
          "DB ms/req",
          "non-2xx",
          "other",
        ],
        [
          side(count(scale.small.assignments), scale.small),
          side(count(scale.large.assignments), scale.large),
          [
            "ratio large/small",
            fmt(scale.large.sequential.p50 / scale.small.sequential.p50, 2),
            fmt(scale.large.sequential.p90 / scale.small.sequential.p90, 2),
            fmt(scale.large.load.reqPerSec / scale.small.load.reqPerSec, 2),
            fmt(scale.large.load.p50 / scale.small.load.p50, 2),
            fmt(scale.large.load.cpuMsPerReq / scale.small.load.cpuMsPerReq, 2),
            scale.large.load.dbCpuMsPerReq && scale.small.load.dbCpuMsPerReq
              ? fmt(scale.large.load.dbCpuMsPerReq / scale.small.load.dbCpuMsPerReq, 2)
              : "",
            "",
            "",
          ],
        ],
      ),
      "",
    );
  }

  if (results.cursor) out.push(...formatCursor(results.cursor), "");

  if (embedded) {
    out.push(
      "Embedded database (PGlite in the server process, DATA_DIR on disk; same seeding and load). Reported separately:",
      "the database's CPU is inside the server process here, so CPU ms/req includes it. × floor is against the PostgreSQL floor above.",
    );
    const embeddedRow = (summary: LoadSummary, reference: LoadSummary, postgresProduct: LoadSummary) => [
      summary.label,
      fmt(summary.reqPerSec, 0),
      fmt(summary.reqPerSec / reference.reqPerSec, 2),
      fmt(summary.reqPerSec / postgresProduct.reqPerSec, 2),
      fmt(summary.p50),
      fmt(summary.p90),
      fmt(summary.cpuMsPerReq, 3),
      String(summary.non2xx + summary.errors),
      percent(summary.otherLoad),
    ];
    out.push(
      table(
        ["scenario (embedded)", "req/s", "× floor", "× on PG", "p50 ms", "p90 ms", "CPU ms/req", "non-2xx", "other"],
        [
          embeddedRow(embedded.restList, load.floorList, load.restList),
          embeddedRow(embedded.trpcList, load.floorList, load.trpcList),
          embeddedRow(embedded.restMe, load.floorMe, load.restMe),
        ],
      ),
      "",
    );
  }

  if (results.serverComplaints.length) {
    out.push(`Server log lines at warn or above (${results.serverComplaints.length}), first ones:`);
    for (const line of results.serverComplaints.slice(0, 5)) out.push(`  ${line.slice(0, 300)}`);
    out.push("");
  }

  out.push("Targets (this machine, this run):");
  for (const target of results.targets) {
    out.push(`  ${target.pass ? "PASS" : "FAIL"}  ${target.name}: ${target.measured} (${target.limit})`);
  }
  const passed = results.targets.filter((target) => target.pass).length;
  out.push(`  ${passed}/${results.targets.length} targets met.`);
  for (const note of meta.notes) out.push(`Note: ${note}`);
  out.push("");
  return out.join("\n");
}

export function fmt(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return "—";
  return round(value, digits).toFixed(digits);
}

function percent(share: number): string {
  return Number.isFinite(share) ? `${Math.round(share * 100)}%` : "—";
}

function count(value: number): string {
  return value.toLocaleString("en-US");
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const render = (cells: string[]) =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[0] ?? 0) : cell.padStart(widths[column] ?? 0)))
      .join("  ")
      .trimEnd();
  return [render(header), render(widths.map((width) => "-".repeat(width))), ...rows.map(render)].join("\n");
}

/** Issue #16: the last page of the big trail by cursor costs what the first does. */
function cursorTarget(cursor: CursorResults): Target {
  const ratio = cursor.lastByCursor.p50 / cursor.firstByCursor.p50;
  return {
    name: `cursor paging: last page of ${count(cursor.events)} events ≤ ${CURSOR_FACTOR} × first page`,
    measured:
      `${fmt(cursor.lastByCursor.p50)} ms vs ${fmt(cursor.firstByCursor.p50)} ms = ${fmt(ratio, 2)} ×` +
      (cursor.events < TARGET_CURSOR_EVENTS ? ` (fewer events than the target's ${count(TARGET_CURSOR_EVENTS)})` : ""),
    limit: `≤ ${CURSOR_FACTOR} ×`,
    pass: ratio <= CURSOR_FACTOR,
  };
}

function formatCursor(cursor: CursorResults): string[] {
  const row = (name: string, value: Spread) => [name, fmt(value.p50), fmt(value.p90), String(value.samples)];
  return [
    `Cursor paging: GET ${CURSOR_PATH} of a tenant with ${count(cursor.events)} audit events (grown by SQL inserts in ` +
      `${fmt(cursor.seedSeconds)} s), ${cursor.pageSize} per page, one request at a time, client-side.`,
    ...(cursor.events < TARGET_CURSOR_EVENTS
      ? [
          `${cursor.quick ? "--quick: " : ""}${count(cursor.events)} events, not the ${count(TARGET_CURSOR_EVENTS)} of ` +
            "issue #16's target (--cursor-events sets it).",
        ]
      : []),
    table(
      ["page", "p50 ms", "p90 ms", "samples"],
      [
        row("first page, ?cursor=", cursor.firstByCursor),
        row("last page, ?cursor=<its cursor>", cursor.lastByCursor),
        row(
          `last page, ?limit=${cursor.pageSize}&offset=${count(cursor.events - cursor.pageSize)}`,
          cursor.lastByOffset,
        ),
        row(`first page, ?limit=${cursor.pageSize} (counts the trail)`, cursor.firstByOffset),
        [
          "last/first by cursor",
          fmt(cursor.lastByCursor.p50 / cursor.firstByCursor.p50, 2),
          fmt(cursor.lastByCursor.p90 / cursor.firstByCursor.p90, 2),
          "",
        ],
      ],
    ),
  ];
}
