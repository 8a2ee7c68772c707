#!/usr/bin/env node
import { openDatabase, resolveDatabaseTarget } from "@tenantry/db";
import { InvalidEnvironment, loadEnv } from "./env.js";

/**
 * `tenantry <command>`: operations against the same database as the server
 * (DATABASE_URL, or the embedded database in DATA_DIR).
 */
const USAGE = `Usage: tenantry <command>

Commands:
  migrate    apply pending database migrations
`;

async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  if (!command || command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  const env = loadEnv();
  switch (command) {
    case "migrate": {
      const db = await openDatabase(resolveDatabaseTarget(env), { migrate: false, poolSize: 1 });
      try {
        const applied = await db.orm.getMigrator().up();
        process.stdout.write(
          applied.length
            ? `Applied ${applied.length} migration(s) to ${db.description}:\n${applied.map((m) => `  ${m.name}\n`).join("")}`
            : `${db.description} is up to date.\n`,
        );
      } finally {
        await db.close();
      }
      return 0;
    }
    default:
      process.stderr.write(`Unknown command: ${command}\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message = error instanceof InvalidEnvironment || error instanceof Error ? error.message : String(error);
    process.stderr.write(`tenantry: ${message}\n`);
    process.exitCode = 1;
  },
);
