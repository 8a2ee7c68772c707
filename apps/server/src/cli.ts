#!/usr/bin/env node
import { parseArgs } from "node:util";
import { COMMANDS, type Command, UsageError } from "./cli/commands.js";
import type { Output } from "./cli/output.js";
import { DomainError, ValidationFailed } from "./domain/errors.js";
import { InvalidEnvironment, loadEnv } from "./env.js";

/**
 * `tenantry <command>`: the support engineer's tasks against the same
 * database as the server (DATABASE_URL, or the embedded database in
 * DATA_DIR), through the API's own procedures (a server-side caller whose
 * caller is the `cli`) — the same rules, the same audit events. Exit codes:
 * 0 done, 1 refused or failed, 2 usage.
 */
function usage(commands: [string, Command][] = Object.entries(COMMANDS)): string {
  const width = Math.max(...commands.map(([, command]) => command.usage.length));
  return `Usage: tenantry <command> [options] [--json]

Commands:
${commands.map(([, command]) => `  ${command.usage.padEnd(width)}  ${command.summary}`).join("\n")}

Every command takes --json (output for scripts) and --help.
Configuration: DATABASE_URL, or DATA_DIR for the embedded database (see the README).
`;
}

/** `invites extend …` → the two-word command; `migrate …` → the one-word one. */
function findCommand(argv: string[]): { name: string; command: Command; args: string[] } | undefined {
  const two = argv.slice(0, 2).join(" ");
  if (COMMANDS[two]) return { name: two, command: COMMANDS[two], args: argv.slice(2) };
  const one = argv[0] ?? "";
  if (COMMANDS[one]) return { name: one, command: COMMANDS[one], args: argv.slice(1) };
  return undefined;
}

async function main(argv: string[]): Promise<number> {
  const out: Output = { json: argv.includes("--json"), write: (text) => process.stdout.write(text) };
  const found = findCommand(argv);
  if (!found) {
    const group = Object.entries(COMMANDS).filter(([name]) => argv[0] && name.startsWith(`${argv[0]} `));
    const asksHelp = argv.length === 0 || argv.some((arg) => arg === "--help" || arg === "-h" || arg === "help");
    if (asksHelp && (argv.length <= 1 || group.length)) {
      process.stdout.write(usage(group.length ? group : undefined));
      return 0;
    }
    if (argv.length === 0) {
      process.stderr.write(usage());
      return 2;
    }
    throw new UsageError(`Unknown command: ${argv.slice(0, group.length ? 2 : 1).join(" ")}`);
  }
  const { command, args } = found;
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(`Usage: tenantry ${command.usage} [--json]\n\n${command.summary}\n`);
    return 0;
  }
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...command.options, json: { type: "boolean" } },
      allowPositionals: true,
      strict: true,
    });
    const expected = command.positionals ?? [];
    if (positionals.length !== expected.length) {
      throw new UsageError(
        expected.length
          ? `expected ${expected.map((name) => `<${name}>`).join(" ")}`
          : "this command takes no arguments",
      );
    }
    await command.run({ env: loadEnv(), out, values, positionals, readSecret });
    return 0;
  } catch (error) {
    if (!isUsageError(error)) throw error;
    process.stderr.write(`tenantry: ${error.message}\nUsage: tenantry ${command.usage} [--json]\n`);
    return 2;
  }
}

function isUsageError(error: unknown): error is Error {
  return error instanceof UsageError || Boolean((error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS"));
}

const [CR, LF, CTRL_C, CTRL_D] = ["\r", "\n", "\u0003", "\u0004"];

/** A secret from stdin: a pipe's first line, or typed at a prompt without echo. */
async function readSecret(prompt: string): Promise<string> {
  const stdin = process.stdin;
  const typed = stdin.isTTY;
  if (typed) {
    process.stderr.write(prompt);
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
  const secret = text.slice(0, end);
  if (!secret) throw new UsageError("no password given (use --password or pipe it on stdin)");
  return secret;
}

/** Database errors quote their statement and values: show only what went wrong. */
function describeFailure(error: unknown): string {
  const sqlState = (error as { code?: unknown }).code;
  if (typeof sqlState === "string" && /^[0-9A-Z]{5}$/.test(sqlState)) {
    const reason = String((error as Error).message)
      .split(" - ")
      .at(-1);
    return `database error ${sqlState}: ${reason}`;
  }
  return error instanceof InvalidEnvironment || error instanceof Error ? error.message : String(error);
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
    } else if (error instanceof DomainError) {
      process.stderr.write(`tenantry: ${error.message}\n`);
      process.exitCode = 1;
    } else if (isUsageError(error)) {
      process.stderr.write(`tenantry: ${error.message}\n\n${usage()}`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`tenantry: ${describeFailure(error)}\n`);
      process.exitCode = 1;
    }
  },
);
