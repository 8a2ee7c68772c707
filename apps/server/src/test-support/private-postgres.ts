import { execFile, execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

/**
 * A PostgreSQL cluster of the test's own (initdb + pg_ctl on a free loopback
 * port, in a temporary directory), so the test may restart it, kill it or make
 * it refuse connections without touching anything else on the machine.
 */
export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/<database>`. */
  url(database?: string): string;
  /** Stops the cluster: `fast` ends sessions cleanly, `immediate` is a crash (recovery on start). */
  stop(mode?: "fast" | "immediate"): Promise<void>;
  start(): Promise<void>;
  /** Ends every session of `database` from the server side. */
  terminate(database: string): Promise<void>;
  /** Makes `database` refuse new connections (and ends its sessions), or accept them again. */
  refuse(database: string, refusing: boolean): Promise<void>;
  /** Stops the cluster and removes its directory. */
  destroy(): Promise<void>;
  /** Runs SQL as the superuser on `database` (through psql on the cluster's socket). */
  sql(sql: string, database?: string): Promise<string>;
}

/** The newest PostgreSQL server binaries installed, if any. */
export function postgresBinaries(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((name) => existsSync(join(root, name, "bin", "pg_ctl")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], "bin") : undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinaries();
  if (!bin) throw new Error("PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql");
  const dir = mkdtempSync(join(tmpdir(), "tenantry-pg-"));
  const data = join(dir, "data");
  // As root, PostgreSQL must run as its own OS user, owning its directory.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    chownSync(dir, uid, gid);
  }
  // Asynchronous: the server under test may run in this very process.
  const run = async (program: string, args: string[]) => {
    const [command, fullArgs] = asRoot
      ? ["runuser", ["-u", "postgres", "--", join(bin, program), ...args]]
      : [join(bin, program), args];
    const { stdout } = await promisify(execFile)(command, fullArgs, { cwd: dir });
    return stdout;
  };
  await run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"]);
  const port = await freePort();
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c max_connections=60`;
  let running = false;
  const cluster: PrivatePostgres = {
    url: (database = "postgres") => `postgres://postgres@127.0.0.1:${port}/${database}`,
    async start() {
      await run("pg_ctl", ["-D", data, "-o", options, "-l", join(dir, "log"), "-w", "-t", "60", "start"]);
      running = true;
    },
    async stop(mode = "fast") {
      await run("pg_ctl", ["-D", data, "-m", mode, "-w", "-t", "60", "stop"]);
      running = false;
    },
    sql: (sql, database = "postgres") =>
      run("psql", [
        "-h",
        dir,
        "-p",
        String(port),
        "-U",
        "postgres",
        "-d",
        database,
        "-v",
        "ON_ERROR_STOP=1",
        "-qAt",
        "-c",
        sql,
      ]),
    async terminate(database) {
      await cluster.sql(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${database}'`);
    },
    async refuse(database, refusing) {
      await cluster.sql(`alter database "${database}" allow_connections ${!refusing}`);
      if (refusing) await cluster.terminate(database);
    },
    async destroy() {
      try {
        if (running) await cluster.stop("immediate");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  await cluster.start();
  return cluster;
}

/** Creates a database on the cluster. */
export async function createDatabase(cluster: PrivatePostgres, name: string): Promise<void> {
  await cluster.sql(`create database "${name}"`);
}
