import { type ChildProcess, spawn } from "node:child_process";

const serverDir = new URL("../..", import.meta.url).pathname;

/**
 * The node arguments that run one of the server's entry points: its build
 * when `npm test` has just built it (TENANTRY_TEST_BUILT=1; a process starts
 * in a third of the time), else its source through tsx, so that a test file
 * run on its own right after an edit runs the edit.
 */
export function entryArgs(entry: "main" | "cli"): string[] {
  return process.env.TENANTRY_TEST_BUILT === "1"
    ? [`dist/${entry}.js`]
    : ["--conditions=@tenantry/source", "--import", "tsx", `src/${entry}.ts`];
}

/** Runs the real entry point in a child process, as `npm start` does; `nodeArgs` go before it (e.g. `--import` a probe). */
export function spawnServer(env: Record<string, string>, nodeArgs: string[] = []): SpawnedServer {
  return spawnNode([...nodeArgs, ...entryArgs("main")], env);
}

/** Runs a built entry point (`main`, e.g. the bundle `npm start` runs) in a child process. */
export function spawnBuiltServer(main: string, env: Record<string, string>): SpawnedServer {
  return spawnNode([main], env);
}

export interface SpawnedServer {
  child: ChildProcess;
  output: () => string;
  /** Where it listens, once it says so; rejects if it exits first. */
  url: Promise<string>;
}

function spawnNode(args: string[], env: Record<string, string>): SpawnedServer {
  const child = spawn(process.execPath, args, {
    cwd: serverDir,
    env: { PATH: process.env.PATH ?? "", PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)"/.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`server exited with ${code} before listening:\n${output}`)));
  });
  url.catch(() => {}); // a test that expects an early exit never awaits it
  return { child, output: () => output, url };
}

/** How a child process ended, once it has. */
export function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
    } else child.once("exit", (code, signal) => resolve({ code, signal }));
  });
}
