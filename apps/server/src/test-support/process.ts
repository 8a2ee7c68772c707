import { type ChildProcess, spawn } from "node:child_process";

const serverDir = new URL("../..", import.meta.url).pathname;

/** Runs the real entry point (source, through tsx) in a child process, as `npm start` does; `nodeArgs` go before it (e.g. `--import` a probe). */
export function spawnServer(env: Record<string, string>, nodeArgs: string[] = []): SpawnedServer {
  return spawnNode([...nodeArgs, "--conditions=@tenantry/source", "--import", "tsx", "src/main.ts"], env);
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
