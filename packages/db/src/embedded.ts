import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Worker } from "node:worker_threads";

/** The ORM's pool size on the embedded database unless one is configured. */
export const EMBEDDED_POOL_SIZE = 4;

export interface EmbeddedPostgres {
  /** A `postgres://` URL whose host is the socket directory. */
  url: string;
  /** Where the data lives, or `null` when it lives in memory only. */
  dataDir: string | null;
  /** How many connections it accepts at once. */
  maxConnections: number;
  /** Resolves once it accepts connections; rejects when it cannot start (it has then stopped). */
  ready: Promise<void>;
  /** Stops it (once started, if it is still starting) and releases the data directory. Idempotent. */
  close(): Promise<void>;
}

/** What the database thread says. */
interface WorkerMessage {
  ready?: true;
  closed?: true;
  failed?: unknown;
}

/**
 * Starts PGlite (PostgreSQL compiled to WebAssembly) in a thread of this
 * process and serves it over the PostgreSQL wire protocol on a private Unix
 * socket, so the normal driver talks to it exactly as it talks to a
 * PostgreSQL server. Returns at once: the database boots (about half a second)
 * while this thread goes on, for example loading and building the server, and
 * later runs the queries beside it. `ready` says when it accepts connections.
 *
 * `dataDir` persists the cluster there; `null` keeps it in memory (tests).
 * PGlite runs one statement at a time; `maxConnections` must be at least the
 * ORM's pool size or extra connections are refused. Throws at once when the
 * data directory is in use.
 */
export function startEmbeddedPostgres(options: { dataDir: string | null; maxConnections: number }): EmbeddedPostgres {
  const dataDir = options.dataDir === null ? null : resolve(options.dataDir);
  const releaseLock = dataDir === null ? () => {} : lockDataDir(dataDir);
  let socketDir: string | undefined;
  let worker: Worker;
  try {
    // A short path of our own: socket paths are limited to ~107 bytes.
    socketDir = mkdtempSync(join(tmpdir(), "tenantry-pg-"));
    worker = new Worker(new URL("./embedded-worker.js", import.meta.url), {
      workerData: {
        pgdata: dataDir === null ? null : join(dataDir, "pgdata"),
        socketPath: join(socketDir, ".s.PGSQL.5432"),
        maxConnections: options.maxConnections,
      },
    });
  } catch (error) {
    if (socketDir) rmSync(socketDir, { recursive: true, force: true });
    releaseLock();
    throw error;
  }
  const sockets = socketDir;

  let closing: Promise<void> | undefined;
  let state: "starting" | "running" | "failed" = "starting";
  const exited = new Promise<void>((resolveExit) => worker.once("exit", () => resolveExit()));
  /** Once it runs, its end (other than by `close`) is as fatal as an error of PGlite in this thread would be. */
  const fatal = (error: Error) => {
    if (state === "running" && !closing) {
      queueMicrotask(() => {
        throw error;
      });
    }
  };
  const ready = new Promise<void>((resolveReady, rejectReady) => {
    const fail = (error: Error) => {
      state = "failed";
      rejectReady(error);
    };
    worker.on("message", (message: WorkerMessage) => {
      if (state !== "starting") return;
      if (message.ready) {
        state = "running";
        resolveReady();
      } else if ("failed" in message) fail(asError(message.failed));
    });
    worker.on("error", (error) => (state === "starting" ? fail(error) : fatal(error)));
    void exited.then(() =>
      state === "starting"
        ? fail(new Error("The embedded database stopped while starting."))
        : fatal(new Error("The embedded database stopped.")),
    );
  });
  // Whoever awaits `ready` sees a failure; nobody awaiting it yet is no unhandled rejection.
  ready.catch(() => {});

  return {
    url: `postgres://postgres@${encodeURIComponent(sockets)}:5432/postgres`,
    dataDir,
    maxConnections: options.maxConnections,
    ready,
    close() {
      closing ??= (async () => {
        try {
          const closed = new Promise<WorkerMessage | undefined>((resolveClosed) => {
            worker.on("message", (message: WorkerMessage) => {
              if (message.closed) resolveClosed(message);
            });
            void exited.then(() => resolveClosed(undefined));
          });
          worker.postMessage("close");
          const answer = await closed;
          await exited;
          if (answer?.failed) throw asError(answer.failed);
        } finally {
          rmSync(sockets, { recursive: true, force: true });
          releaseLock();
        }
      })();
      return closing;
    },
  };
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/**
 * PGlite is single-process: two servers on one data directory would corrupt
 * it. A lock file with the owner's pid refuses the second one; a lock left by
 * a process that no longer runs is taken over.
 */
const lockedHere = new Set<string>();

function lockDataDir(dataDir: string): () => void {
  const inUse = (owner: number) =>
    new Error(
      `The data directory ${dataDir} is in use by process ${owner}. Stop that server first, or set DATA_DIR to another directory.`,
    );
  if (lockedHere.has(dataDir)) throw inUse(process.pid);
  mkdirSync(dataDir, { recursive: true });
  const lockFile = join(dataDir, "tenantry.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: "wx" });
      lockedHere.add(dataDir);
      return () => {
        lockedHere.delete(dataDir);
        rmSync(lockFile, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number(readFileSync(lockFile, "utf8").trim());
      // A lock of our own pid not in `lockedHere` is left over from an earlier process that had our pid.
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isRunning(owner)) throw inUse(owner);
      rmSync(lockFile, { force: true });
    }
  }
  throw new Error(`Could not lock the data directory ${dataDir}.`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
