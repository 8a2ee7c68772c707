import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus } from "node:os";

/**
 * The servers under test run as processes of their own, so that their CPU
 * time can be read from /proc and the load generator never shares their
 * event loop. Every process started here is stopped on exit, also on errors
 * and Ctrl-C (see `cleanup`).
 */

export interface ServerProcess {
  name: string;
  pid: number;
  url: string;
  child: ChildProcess;
  /** The last lines the process wrote (stdout and stderr). */
  output(): string[];
  /** Lines at level warn or above in the server's JSON log (and anything on stderr). */
  complaints(): string[];
  stop(): Promise<void>;
}

const MAX_LINES = 200;
const live = new Set<ServerProcess>();
const cleanups: (() => Promise<void> | void)[] = [];

/** Runs when the bench ends, whatever way it ends, in reverse order of registration. */
export function onCleanup(work: () => Promise<void> | void): void {
  cleanups.push(work);
}

let cleaning: Promise<void> | undefined;

/** Stops every live process, then runs the registered cleanups (databases, temp dirs). */
export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await Promise.allSettled([...live].map((server) => server.stop()));
    for (const work of cleanups.reverse()) {
      try {
        await work();
      } catch (error) {
        process.stderr.write(`cleanup: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    }
  })();
  return cleaning;
}

/** A port nobody listens on right now (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export interface StartOptions {
  name: string;
  /** Arguments to node: flags, then the script. */
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** Answers 200 when the server is ready. */
  readyPath: string;
  port: number;
  timeoutMs?: number;
}

export async function startServerProcess(options: StartOptions): Promise<ServerProcess> {
  const child = spawn(process.execPath, options.args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const complaints: string[] = [];
  const keep = (stream: "stdout" | "stderr") => {
    let partial = "";
    return (chunk: Buffer) => {
      const text = partial + chunk.toString("utf8");
      const parts = text.split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) {
        if (!line) continue;
        lines.push(line);
        if (lines.length > MAX_LINES) lines.shift();
        if (stream === "stderr" || isComplaint(line)) {
          complaints.push(line);
          if (complaints.length > MAX_LINES) complaints.shift();
        }
      }
    };
  };
  child.stdout?.on("data", keep("stdout"));
  child.stderr?.on("data", keep("stderr"));
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "?")),
  );
  let stopping: Promise<void> | undefined;
  const server: ServerProcess = {
    name: options.name,
    pid: child.pid ?? -1,
    url: `http://127.0.0.1:${options.port}`,
    child,
    output: () => [...lines],
    complaints: () => [...complaints],
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill("SIGTERM");
          const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
          await exited;
          clearTimeout(timer);
        }
        live.delete(server);
      })();
      return stopping;
    },
  };
  live.add(server);
  if (server.pid < 0) throw new Error(`${options.name} did not start`);

  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let exitedEarly: number | string | undefined;
  void exited.then((code) => {
    exitedEarly = code;
  });
  while (Date.now() < deadline) {
    if (exitedEarly !== undefined) break;
    try {
      const response = await fetch(`${server.url}${options.readyPath}`, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.ok) return server;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await server.stop();
  const why = exitedEarly !== undefined ? `exited (${exitedEarly})` : "did not become ready in time";
  throw new Error(`${options.name} ${why}:\n${lines.slice(-30).join("\n")}`);
}

function isComplaint(line: string): boolean {
  if (!line.startsWith("{")) return true;
  try {
    const level = (JSON.parse(line) as { level?: unknown }).level;
    return typeof level === "number" && level >= 40;
  } catch {
    return true;
  }
}

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of a process (all its threads), in milliseconds, from /proc/<pid>/stat. */
export function processCpuMs(pid: number): number {
  const ticks = statTicks(readFileSync(`/proc/${pid}/stat`, "utf8"));
  return (ticks.cpu * 1000) / clockTicks();
}

/** CPU time (ms) of each of the given processes that still runs, by pid. */
export function cpuByPid(pids: readonly number[]): Map<number, number> {
  const times = new Map<number, number>();
  for (const pid of pids) {
    try {
      times.set(pid, (statTicks(readFileSync(`/proc/${pid}/stat`, "utf8")).cpu * 1000) / clockTicks());
    } catch {
      // the process ended meanwhile
    }
  }
  return times;
}

/**
 * CPU used between two readings by the processes of the second one: a
 * process that started in between counts whole (PostgreSQL backends the pool
 * opened during the run); one that ended in between is lost (pools keep theirs
 * open while the load runs).
 */
export function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}

/**
 * CPU time of the whole machine (all cores), in milliseconds, from /proc/stat:
 * `busy` counts user, nice and system time (what processes use); `all`
 * also interrupts and steal.
 */
export function machineCpuMs(): { busy: number; all: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
  // cpu user nice system idle iowait irq softirq steal guest guest_nice
  const [, user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).map(Number);
  const toMs = (ticks: number) => (ticks * 1000) / clockTicks();
  return { busy: toMs(user + nice + system), all: toMs(user + nice + system + irq + softirq + steal) };
}

/**
 * Waits until the machine is quiet — at most `threshold` of all cores busy
 * over one second — or until `maxWaitMs` passed. Call it while the servers
 * under test are idle: whatever is busy then is someone else. Returns the
 * milliseconds waited and the last busy share seen.
 */
export async function waitForQuiet(threshold: number, maxWaitMs: number): Promise<{ waitedMs: number; busy: number }> {
  const started = Date.now();
  const cores = cpus().length;
  for (;;) {
    const before = machineCpuMs().all;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const busy = (machineCpuMs().all - before) / (1000 * cores);
    const waitedMs = Date.now() - started;
    if (busy <= threshold || waitedMs >= maxWaitMs) return { waitedMs, busy };
  }
}

function statTicks(stat: string): { comm: string; cpu: number } {
  const open = stat.indexOf("(");
  const close = stat.lastIndexOf(")");
  const comm = stat.slice(open + 1, close);
  // Fields after the command: state is field 3, utime field 14, stime field 15.
  const fields = stat
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  return { comm, cpu: Number(fields[11]) + Number(fields[12]) };
}
