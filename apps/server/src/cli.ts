#!/usr/bin/env node
import { hostname, userInfo } from "node:os";
import { parseArgs } from "node:util";
import { openDatabase, resolveDatabaseTarget } from "@tenantry/db";
import type { AuditContext } from "./domain/audit.js";
import { systemClock } from "./domain/clock.js";
import { ValidationFailed } from "./domain/errors.js";
import { createSuperuser } from "./domain/users.js";
import { InvalidEnvironment, loadEnv } from "./env.js";
import { email as emailSchema } from "./trpc/schemas.js";

/**
 * `tenantry <command>`: operations against the same database as the server
 * (DATABASE_URL, or the embedded database in DATA_DIR), through the same
 * domain services as the API.
 */
const USAGE = `Usage: tenantry <command> [options]

Commands:
  migrate                                    apply pending database migrations
  createsuperuser --email E [--password P]   create a platform superuser (belongs to no tenant);
                                             without --password, the password is read from stdin
`;

class UsageError extends Error {}

/** What the CLI's changes are recorded as: the command line, run by this OS user on this host. */
const CLI_AUDIT: AuditContext = {
  actor: { type: "cli" },
  client: { ip: null, userAgent: `tenantry-cli (${userInfo().username}@${hostname()})` },
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  const env = loadEnv();
  const target = resolveDatabaseTarget(env);
  switch (command) {
    case "migrate": {
      const db = await openDatabase(target, { migrate: false, poolSize: 1 });
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
    case "createsuperuser": {
      const { values } = parseArgs({
        args: rest,
        options: {
          email: { type: "string" },
          password: { type: "string" },
          "first-name": { type: "string" },
          "last-name": { type: "string" },
        },
        strict: true,
      });
      const parsedEmail = emailSchema.safeParse(values.email);
      if (!parsedEmail.success) throw new UsageError(`--email: ${parsedEmail.error.issues[0]?.message}`);
      const password = values.password ?? (await readPasswordFromStdin());
      const db = await openDatabase(target, { poolSize: 1 });
      try {
        const user = await createSuperuser(
          { em: db.orm.em.fork(), clock: systemClock, audit: CLI_AUDIT },
          {
            email: parsedEmail.data,
            password,
            firstName: values["first-name"],
            lastName: values["last-name"],
          },
        );
        process.stdout.write(`Superuser ${user.email} created (id ${user.id}).\n`);
      } finally {
        await db.close();
      }
      return 0;
    }
    default:
      throw new UsageError(`Unknown command: ${command}`);
  }
}

const [CR, LF, CTRL_C, CTRL_D] = ["\r", "\n", "\u0003", "\u0004"];

/** The password from stdin: a pipe's first line, or typed at a prompt without echo. */
async function readPasswordFromStdin(): Promise<string> {
  const stdin = process.stdin;
  const typed = stdin.isTTY;
  if (typed) {
    process.stderr.write("Password: ");
    stdin.setRawMode(true);
  }
  let text = "";
  for await (const chunk of stdin) {
    text += (chunk as Buffer).toString("utf8");
    // At a prompt, Enter, Ctrl-C or Ctrl-D ends the input; a pipe is read to its end.
    if (typed && [CR, LF, CTRL_C, CTRL_D].some((key) => text.includes(key))) break;
  }
  if (typed) {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write("\n");
  }
  if (text.includes(CTRL_C)) throw new UsageError("cancelled");
  const end = Math.min(...[CR, LF, CTRL_D].map((key) => text.indexOf(key)).filter((index) => index >= 0), text.length);
  const password = text.slice(0, end);
  if (!password) throw new UsageError("no password given (use --password or pipe it on stdin)");
  return password;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ValidationFailed) {
      for (const [field, messages] of Object.entries(error.fields)) {
        process.stderr.write(`tenantry: ${field}: ${messages.join(" ")}\n`);
      }
      process.exitCode = 1;
      return;
    }
    const message = error instanceof InvalidEnvironment || error instanceof Error ? error.message : String(error);
    process.stderr.write(`tenantry: ${message}\n`);
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`\n${USAGE}`);
      process.exitCode = 2;
    } else process.exitCode = 1;
  },
);
