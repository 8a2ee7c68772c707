/** Where the data lives: a PostgreSQL server, or the embedded PGlite. */
export type DatabaseTarget = { kind: "postgres"; url: string } | { kind: "embedded"; dataDir: string | null };

/** `DATABASE_URL` set means PostgreSQL; unset means PGlite in `DATA_DIR`. */
export function resolveDatabaseTarget(env: { databaseUrl?: string; dataDir: string }): DatabaseTarget {
  return env.databaseUrl ? { kind: "postgres", url: env.databaseUrl } : { kind: "embedded", dataDir: env.dataDir };
}

export function describeTarget(target: DatabaseTarget): string {
  if (target.kind === "embedded") {
    return target.dataDir === null ? "embedded PGlite (in memory)" : `embedded PGlite in ${target.dataDir}`;
  }
  const url = new URL(target.url);
  url.password = "";
  return `PostgreSQL at ${url.host}${url.pathname}`;
}
