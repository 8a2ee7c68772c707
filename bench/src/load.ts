import { cpus } from "node:os";
import autocannon from "autocannon";
import { cpuByPid, cpuDelta, machineCpuMs, processCpuMs, type ServerProcess } from "./processes.js";
import { median, percentile, round, sum } from "./stats.js";

/** One endpoint under load: which server, which path, whose token. */
export interface LoadTarget {
  /** Row label, e.g. "product REST GET /api/user-roles/". */
  label: string;
  server: ServerProcess;
  path: string;
  token: string;
  /** The PostgreSQL backends serving this target's database (none for the embedded database, which runs in the server). */
  backends: (() => Promise<number[]>) | null;
}

export interface LoadRun {
  reqPerSec: number;
  p50: number;
  p90: number;
  p99: number;
  responses: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationS: number;
  /** Server process CPU (user + system, all threads) per response. */
  cpuMsPerReq: number;
  /** CPU of PostgreSQL's backends per response (null when the database runs inside the server). */
  dbCpuMsPerReq: number | null;
  /** The load generator's own CPU (this process) per response. */
  clientCpuMsPerReq: number;
  /**
   * Share of the machine's CPU (all cores) busy with something other than the
   * server, its database backends and the load generator: others' work, noise.
   */
  otherLoad: number;
  /** Before the run: how long the bench waited for the machine to be quiet, and how busy it was then. */
  quietWaitMs?: number;
  busyBeforeRun?: number;
}

export interface LoadSummary {
  label: string;
  path: string;
  runs: LoadRun[];
  /** Medians over the runs; error counts are totals. */
  reqPerSec: number;
  p50: number;
  p90: number;
  p99: number;
  cpuMsPerReq: number;
  dbCpuMsPerReq: number | null;
  clientCpuMsPerReq: number;
  otherLoad: number;
  non2xx: number;
  errors: number;
}

export interface LoadSettings {
  connections: number;
  duration: number;
  warmup: number;
}

/** Warm-up (discarded), then a fixed-duration run at `connections` connections, measured. */
export async function measureOnce(target: LoadTarget, settings: LoadSettings): Promise<LoadRun> {
  if (settings.warmup > 0) await fire(target, settings.connections, settings.warmup, null);
  const latencies: number[] = [];
  const backendsBefore = cpuByPid(target.backends ? await target.backends() : []);
  const serverBefore = processCpuMs(target.server.pid);
  const clientBefore = process.cpuUsage();
  const machineBefore = machineCpuMs().busy;
  const started = performance.now();
  const result = await fire(target, settings.connections, settings.duration, latencies);
  const elapsedMs = performance.now() - started;
  const machine = machineCpuMs().busy - machineBefore;
  const client = process.cpuUsage(clientBefore);
  const serverCpu = processCpuMs(target.server.pid) - serverBefore;
  const dbCpu = target.backends ? cpuDelta(backendsBefore, cpuByPid(await target.backends())) : 0;
  const clientCpu = (client.user + client.system) / 1000;
  const responses = latencies.length;
  const perResponse = (ms: number) => (responses ? ms / responses : Number.NaN);
  return {
    reqPerSec: responses / (elapsedMs / 1000),
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
    responses,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationS: elapsedMs / 1000,
    cpuMsPerReq: perResponse(serverCpu),
    dbCpuMsPerReq: target.backends ? perResponse(dbCpu) : null,
    clientCpuMsPerReq: perResponse(clientCpu),
    otherLoad: Math.max(0, machine - serverCpu - dbCpu - clientCpu) / (elapsedMs * cpus().length),
  };
}

export function summarize(label: string, path: string, runs: LoadRun[]): LoadSummary {
  const pick = (key: "reqPerSec" | "p50" | "p90" | "p99" | "cpuMsPerReq" | "clientCpuMsPerReq" | "otherLoad") =>
    median(runs.map((run) => run[key]));
  const db = runs.map((run) => run.dbCpuMsPerReq).filter((value): value is number => value !== null);
  return {
    label,
    path,
    runs: runs.map((run) => roundRun(run)),
    reqPerSec: round(pick("reqPerSec"), 1),
    p50: round(pick("p50")),
    p90: round(pick("p90")),
    p99: round(pick("p99")),
    cpuMsPerReq: round(pick("cpuMsPerReq"), 3),
    dbCpuMsPerReq: db.length ? round(median(db), 3) : null,
    clientCpuMsPerReq: round(pick("clientCpuMsPerReq"), 3),
    otherLoad: round(pick("otherLoad"), 3),
    non2xx: sum(runs.map((run) => run.non2xx)),
    errors: sum(runs.map((run) => run.errors)),
  };
}

function roundRun(run: LoadRun): LoadRun {
  return {
    ...run,
    reqPerSec: round(run.reqPerSec, 1),
    p50: round(run.p50),
    p90: round(run.p90),
    p99: round(run.p99),
    durationS: round(run.durationS),
    cpuMsPerReq: round(run.cpuMsPerReq, 3),
    dbCpuMsPerReq: run.dbCpuMsPerReq === null ? null : round(run.dbCpuMsPerReq, 3),
    clientCpuMsPerReq: round(run.clientCpuMsPerReq, 3),
    otherLoad: round(run.otherLoad, 3),
    ...(run.busyBeforeRun === undefined ? {} : { busyBeforeRun: round(run.busyBeforeRun, 3) }),
  };
}

function fire(
  target: LoadTarget,
  connections: number,
  duration: number,
  latencies: number[] | null,
): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${target.server.url}${target.path}`,
        connections,
        duration,
        pipelining: 1,
        timeout: 10,
        headers: { authorization: `Bearer ${target.token}`, accept: "application/json" },
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    if (latencies) instance.on("response", (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  });
}
