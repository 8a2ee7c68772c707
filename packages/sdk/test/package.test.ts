import { spawn } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../../../apps/server/src/test-support/server.js";

/**
 * The package as npm users get it: `npm pack` (which regenerates-checks and
 * builds), a fresh app outside the workspace that installs only the tarball
 * with plain npm, a strict consumer compiled against it, and the compiled
 * consumer (ESM and CJS) run against a live server.
 */
const SDK_DIR = fileURLToPath(new URL("..", import.meta.url));
const CONSUMER_DIR = fileURLToPath(new URL("./consumer/", import.meta.url));
const TYPESCRIPT = "typescript@5.9.3";
const NODE_TYPES = "@types/node@20.19.43";
/** What no published declaration may mention: the server and the libraries behind it. */
const FORBIDDEN_IN_DECLARATIONS = ["@mikro-orm", "fastify", "zod", "apps/server", "@tenantry/server", "@trpc/server"];

/** The environment of the workspace's tools would steer npm and node; the consumer gets a plain one. */
const plainEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !/^(npm_|pnpm_|turbo_|vitest|node_options$|node_env$)/i.test(name)),
);

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, env: Record<string, string | undefined> = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...plainEnv, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function succeeded(ran: Ran, what: string): Ran {
  if (ran.code !== 0) throw new Error(`${what} failed (${ran.code}):\n${ran.stdout}\n${ran.stderr}`);
  return ran;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

const CONSUMER_TSCONFIG = {
  compilerOptions: {
    strict: true,
    skipLibCheck: false,
    noEmit: true,
    module: "nodenext",
    moduleResolution: "nodenext",
    target: "es2022",
    lib: ["es2022"],
    types: ["node"],
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    verbatimModuleSyntax: true,
    rootDir: ".",
  },
  files: ["esm.mts", "cjs.cts"],
};

describe("the packed package, installed with plain npm outside the workspace", () => {
  let work: string;
  let app: string;
  let pack: PackResult;
  let server: TestServer;
  let compiled: Promise<Ran>;
  let stripped: Promise<Ran>;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "tenantry-sdk-package-"));
    app = join(work, "app");
    await mkdir(app);
    const packing = (async () => {
      const packed = succeeded(await run("npm", ["pack", "--json", "--pack-destination", work], SDK_DIR), "npm pack");
      // Lifecycle scripts may print before npm's JSON.
      const json = packed.stdout.slice(packed.stdout.search(/^\[/m));
      [pack] = JSON.parse(json) as [PackResult];
      await writeFile(
        join(app, "package.json"),
        `${JSON.stringify({ name: "sdk-consumer", private: true, type: "module" }, null, 2)}\n`,
      );
      succeeded(
        await run(
          "npm",
          ["install", "--no-audit", "--no-fund", "--prefer-offline", join(work, pack.filename), TYPESCRIPT, NODE_TYPES],
          app,
        ),
        "npm install",
      );
    })();
    [server] = await Promise.all([startTestServer({ env: { THROTTLE: "off" } }), packing]);

    // The consumer, compiled once with the strict tsconfig (and emitted to out/), and once more with every
    // `@ts-expect-error` removed (each of those lines must then be an error, and no other line).
    await writeFile(join(app, "tsconfig.json"), `${JSON.stringify(CONSUMER_TSCONFIG, null, 2)}\n`);
    await copyFile(join(CONSUMER_DIR, "esm.mts"), join(app, "esm.mts"));
    await copyFile(join(CONSUMER_DIR, "cjs.cts"), join(app, "cjs.cts"));
    const source = await readFile(join(app, "esm.mts"), "utf8");
    await writeFile(join(app, "stripped.mts"), source.replaceAll("// @ts-expect-error", "// (expect-error)"));
    await writeFile(
      join(app, "tsconfig.stripped.json"),
      `${JSON.stringify({ extends: "./tsconfig.json", files: ["stripped.mts"] }, null, 2)}\n`,
    );
    const tsc = join(app, "node_modules", "typescript", "bin", "tsc");
    compiled = run(
      process.execPath,
      [tsc, "-p", "tsconfig.json", "--noEmit", "false", "--noEmitOnError", "--outDir", "out", "--pretty", "false"],
      app,
    );
    stripped = run(process.execPath, [tsc, "-p", "tsconfig.stripped.json", "--pretty", "false"], app);
    await Promise.all([compiled, stripped]);
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test("the tarball holds both builds with their declarations, README and LICENSE, and nothing else", async ({
    annotate,
  }) => {
    const paths = pack.files.map((f) => f.path).sort();
    for (const expected of [
      "LICENSE",
      "README.md",
      "package.json",
      "dist/esm/index.js",
      "dist/esm/index.d.ts",
      "dist/cjs/index.js",
      "dist/cjs/index.d.ts",
      "dist/cjs/package.json",
      "dist/esm/generated/api.d.ts",
    ]) {
      expect(paths).toContain(expected);
    }
    for (const path of paths) expect(path).toMatch(/^(dist\/(esm|cjs)\/|LICENSE$|README\.md$|package\.json$)/);
    expect(paths.some((p) => p.includes(".test."))).toBe(false);
    await annotate(`${pack.filename}: ${pack.size} bytes packed, ${pack.unpackedSize} bytes unpacked`);
    expect(pack.size).toBeGreaterThan(5_000);
    expect(pack.size).toBeLessThan(100_000);
  });

  test("the installed manifest is publishable: exports for import and require, types for both", async () => {
    const installed = join(app, "node_modules", "@tenantry", "sdk");
    const manifest = JSON.parse(await readFile(join(installed, "package.json"), "utf8"));
    expect(manifest.private).toBeUndefined();
    expect(manifest).toMatchObject({
      name: "@tenantry/sdk",
      license: "MIT",
      sideEffects: false,
      main: "./dist/cjs/index.js",
      module: "./dist/esm/index.js",
      types: "./dist/cjs/index.d.ts",
      engines: { node: expect.any(String) },
      exports: {
        ".": {
          import: { types: "./dist/esm/index.d.ts", default: "./dist/esm/index.js" },
          require: { types: "./dist/cjs/index.d.ts", default: "./dist/cjs/index.js" },
        },
      },
    });
    expect(JSON.parse(await readFile(join(installed, "dist/cjs/package.json"), "utf8"))).toEqual({ type: "commonjs" });
    expect(Object.keys(manifest.dependencies).sort()).toEqual(["@trpc/client", "@trpc/server"]);
  });

  test("no declaration mentions the server, MikroORM, fastify, zod or tRPC's server", async () => {
    const installed = join(app, "node_modules", "@tenantry", "sdk");
    const declarations = (await filesUnder(installed)).filter((f) => f.endsWith(".d.ts"));
    expect(declarations.map((f) => relative(installed, f)).sort()).toEqual(
      ["client", "errors", "generated/api", "index", "transport", "types"]
        .flatMap((name) => [`dist/cjs/${name}.d.ts`, `dist/esm/${name}.d.ts`])
        .sort(),
    );
    for (const file of declarations) {
      const text = await readFile(file, "utf8");
      for (const word of FORBIDDEN_IN_DECLARATIONS)
        expect(text, `${relative(installed, file)}: ${word}`).not.toContain(word);
      // Every import of a declaration is a relative one: the types stand alone.
      for (const [, specifier] of text.matchAll(/from\s+"([^"]+)"/g)) expect(specifier).toMatch(/^\.\.?\//);
    }
  });

  test("a strict consumer (skipLibCheck: false) compiles against the tarball's types, ESM and CJS", async () => {
    const result = await compiled;
    expect(result.stdout + result.stderr).toBe("");
    expect(result.code).toBe(0);
  });

  test("each @ts-expect-error line of the consumer is a compile error, and no other line is", async () => {
    const source = await readFile(join(app, "esm.mts"), "utf8");
    const expected = source
      .split("\n")
      .flatMap((line, index) => (line.includes("// @ts-expect-error") ? [index + 2] : []));
    expect(expected.length).toBeGreaterThanOrEqual(8);
    const result = await stripped;
    expect(result.code).not.toBe(0);
    const errorLines = [...result.stdout.matchAll(/^stripped\.mts\((\d+),\d+\): error TS\d+/gm)].map((m) =>
      Number(m[1]),
    );
    expect([...new Set(errorLines)].sort((a, b) => a - b)).toEqual(expected);
    expect(result.stdout).not.toMatch(/^(?!stripped\.mts).+: error TS/m);
  });

  test("the compiled consumers run against a live server: ESM with every namespace, CJS with require", async () => {
    const env = { TENANTRY_URL: server.url };
    const [esm, cjs] = await Promise.all([
      run(process.execPath, [join(app, "out", "esm.mjs")], app, env),
      run(process.execPath, [join(app, "out", "cjs.cjs")], app, env),
    ]);
    expect(esm.stderr).toBe("");
    expect(esm.code).toBe(0);
    const report = JSON.parse(esm.stdout);
    expect(report).toMatchObject({ consumer: "esm", ok: true });
    expect(new Set(report.procedures.map((p: string) => p.split(".")[0]))).toEqual(
      new Set(["auth", "tenant", "user", "invite", "role", "audit", "ops"]),
    );
    expect(cjs.stderr).toBe("");
    expect(cjs.code).toBe(0);
    expect(JSON.parse(cjs.stdout)).toEqual({ consumer: "cjs", ok: true });
  });

  test("the README's example runs as written", async () => {
    const readme = await readFile(join(SDK_DIR, "README.md"), "utf8");
    const example = readme.slice(readme.indexOf("## Example")).match(/```js\n([\s\S]*?)```/)?.[1];
    expect(example).toContain("createTenantryClient");
    await writeFile(join(app, "example.mjs"), example ?? "");
    const ran = await run(process.execPath, ["example.mjs"], app, { TENANTRY_URL: server.url });
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/^acme-\d+ \[ 'ADMIN' \] \[ 'ANALYST', 'VIEWER' \] owner\+\d+@acme\.test 2$/m);
    expect(ran.stdout).toContain("BAD_REQUEST 400 { email: [ 'Enter a valid email address.' ] }");
  });
});
