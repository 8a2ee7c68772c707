// @ts-check
// The embedded database's own thread (see `startEmbeddedPostgres` in
// embedded.ts): PGlite and the socket server that speaks the PostgreSQL wire
// protocol for it. Plain JavaScript, so that Node runs it as it is, from
// `src` (tests) and from `dist` alike.
import { createHash } from "node:crypto";
import { constants, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parentPort, workerData } from "node:worker_threads";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

/** @type {{ pgdata: string | null; socketPath: string; maxConnections: number }} */
const { pgdata, socketPath, maxConnections } = workerData;
const port = /** @type {import("node:worker_threads").MessagePort} */ (parentPort);

const started = start();
started.then(
  () => send({ ready: true }),
  (error) => send({ failed: error }),
);
// Asked to close, even while still starting: it closes once started, then the thread ends.
port.on("message", (message) => {
  if (message === "close") void stop();
});

async function start() {
  if (pgdata !== null) await seedFromTemplate(pgdata);
  const db = await PGlite.create(pgdata ?? undefined);
  const server = new PGLiteSocketServer({ db, path: socketPath, maxConnections });
  try {
    await server.start();
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
  return { db, server };
}

async function stop() {
  // A start that failed has nothing to close (and has said why).
  const running = await started.catch(() => null);
  let failure = null;
  if (running) {
    try {
      try {
        await running.server.stop();
      } finally {
        await running.db.close();
      }
    } catch (error) {
      failure = error;
    }
  }
  send({ closed: true, failed: failure });
  port.close();
}

/**
 * Posts to the main thread; an error that cannot be cloned is sent as its text.
 * @param {{ ready?: true; closed?: true; failed?: unknown }} message
 */
function send(message) {
  try {
    port.postMessage(message);
  } catch {
    const failed = message.failed;
    port.postMessage({
      ...message,
      failed: new Error(failed instanceof Error ? (failed.stack ?? failed.message) : String(failed)),
    });
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
 * @param {string} pgdata
 */
async function seedFromTemplate(pgdata) {
  if (existsSync(pgdata) && readdirSync(pgdata).length > 0) return;
  let template;
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

async function clusterTemplate() {
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
