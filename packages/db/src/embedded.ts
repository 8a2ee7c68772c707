import { createHash } from "node:crypto";
import {
  constants,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

export interface EmbeddedPostgres {
  /** A `postgres://` URL whose host is the socket directory. */
  url: string;
  /** Where the data lives, or `null` when it lives in memory only. */
  dataDir: string | null;
  close(): Promise<void>;
}

/**
 * Starts PGlite (PostgreSQL compiled to WebAssembly) in this process and serves
 * it over the PostgreSQL wire protocol on a private Unix socket, so the normal
 * driver talks to it exactly as it talks to a PostgreSQL server.
 *
 * `dataDir` persists the cluster there; `null` keeps it in memory (tests).
 * PGlite runs one statement at a time; `maxConnections` must be at least the
 * ORM's pool size or extra connections are refused.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string | null;
  maxConnections: number;
}): Promise<EmbeddedPostgres> {
  const dataDir = options.dataDir === null ? null : resolve(options.dataDir);
  const releaseLock = dataDir === null ? () => {} : lockDataDir(dataDir);
  let db: PGlite | undefined;
  let server: PGLiteSocketServer | undefined;
  // A short path of our own: socket paths are limited to ~107 bytes.
  const socketDir = mkdtempSync(join(tmpdir(), "tenantry-pg-"));
  try {
    if (dataDir !== null) await seedFromTemplate(join(dataDir, "pgdata"));
    db = await PGlite.create(dataDir === null ? undefined : join(dataDir, "pgdata"));
    server = new PGLiteSocketServer({
      db,
      path: join(socketDir, ".s.PGSQL.5432"),
      maxConnections: options.maxConnections,
    });
    await server.start();
  } catch (error) {
    await server?.stop().catch(() => {});
    await db?.close().catch(() => {});
    rmSync(socketDir, { recursive: true, force: true });
    releaseLock();
    throw error;
  }
  const started = { db, server };
  let closing: Promise<void> | undefined;
  return {
    url: `postgres://postgres@${encodeURIComponent(socketDir)}:5432/postgres`,
    dataDir,
    close() {
      closing ??= (async () => {
        try {
          await started.server.stop();
          await started.db.close();
        } finally {
          rmSync(socketDir, { recursive: true, force: true });
          releaseLock();
        }
      })();
      return closing;
    },
  };
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

/**
 * A new data directory starts as a copy of a freshly initialised cluster
 * instead of running initdb (seconds in WebAssembly; a copy and a resume take
 * a fraction of that). The template is made once per PGlite build, by initdb
 * in a directory of its own that is renamed into place only when complete,
 * and kept in this package's `node_modules/.cache`. Nothing but initdb's
 * output is in it: the database itself is then migrated as always. Where the
 * template cannot be made (a read-only install), initdb runs in place as
 * before.
 */
async function seedFromTemplate(pgdata: string): Promise<void> {
  if (existsSync(pgdata) && readdirSync(pgdata).length > 0) return;
  let template: string;
  try {
    template = await clusterTemplate();
  } catch {
    return;
  }
  const partial = `${pgdata}.copying-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  // A copy-on-write clone where the file system can (btrfs, XFS), else a plain copy.
  cpSync(template, partial, { recursive: true, mode: constants.COPYFILE_FICLONE });
  rmSync(pgdata, { recursive: true, force: true });
  renameSync(partial, pgdata);
}

async function clusterTemplate(): Promise<string> {
  const pglite = fileURLToPath(import.meta.resolve("@electric-sql/pglite"));
  const key = createHash("sha256").update(pglite).digest("hex").slice(0, 16);
  const cache = join(dirname(fileURLToPath(import.meta.url)), "..", "node_modules", ".cache", "tenantry-pglite");
  const template = join(cache, `initdb-${key}`);
  if (existsSync(join(template, "PG_VERSION"))) return template;
  mkdirSync(cache, { recursive: true });
  const building = mkdtempSync(join(cache, "building-"));
  try {
    const db = await PGlite.create(join(building, "pgdata"));
    await db.close();
    try {
      renameSync(join(building, "pgdata"), template);
    } catch (error) {
      // Another process made it first: use theirs.
      if (!existsSync(join(template, "PG_VERSION"))) throw error;
    }
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
  return template;
}
