// Bundles the server (src/main.ts and all it imports, the workspace packages
// from their TypeScript source, as the tests run them) into a few ES modules in
// dist/bundle, which `npm start` runs. Loaded from node_modules, the server is
// some 1,300 modules, each resolved, read, scanned for its exports and compiled
// on every start: about a third of the time to ready. Bundled, it is a handful.
//
// What a bundled module cannot do is find files beside itself: its
// `import.meta.url`, `__dirname` and `__filename` are rewritten to its own
// location, relative to the bundle (PGlite's worker and WebAssembly, Swagger
// UI's assets, the common-password list, the console). Native addons and
// optional packages that are not installed stay outside, imported from where
// they are, by a relative path, so the bundle moves with the checkout.
//
// Usage: node scripts/bundle.mjs [outdir]   (default dist/bundle)
import { readFileSync, rmSync } from "node:fs";
import { dirname, extname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const serverDir = dirname(dirname(fileURLToPath(import.meta.url)));

/** Every output file starts with these: `require` for the CommonJS code, and a module's location from its chunk's. */
const BANNER = [
  'import { createRequire as __tenantryCreateRequire } from "node:module";',
  'import { join as __tenantryJoin } from "node:path";',
  'import { fileURLToPath as __tenantryToPath, pathToFileURL as __tenantryToUrl } from "node:url";',
  "const require = __tenantryCreateRequire(import.meta.url);",
  'const __tenantryDir = __tenantryToPath(new URL(".", import.meta.url));',
  "const __tenantryPath = (path) => __tenantryJoin(__tenantryDir, path);",
  "const __tenantryUrl = (path) => __tenantryToUrl(__tenantryPath(path)).href;",
].join("\n");

/** A module's own location, in code (not a property of something else). */
const LOCATION = /(?<![\w$.])(?:import\.meta\.url|__dirname|__filename)(?![\w$])/g;
const LOADERS = { ".ts": "ts", ".js": "js", ".mjs": "js", ".cjs": "js" };

/** Bundles the server into `outdir` (emptied first); resolves to esbuild's result. */
export async function bundleServer(outdir = join(serverDir, "dist", "bundle")) {
  const out = resolve(outdir);
  rmSync(out, { recursive: true, force: true });
  /** `path` as the bundle reaches it: relative to the output directory, with `/`. */
  const fromBundle = (path) => {
    const relativePath = relative(out, path).split(sep).join("/");
    return relativePath.startsWith(".") ? relativePath : `./${relativePath}`;
  };
  return build({
    entryPoints: { main: join(serverDir, "src", "main.ts") },
    outdir: out,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    conditions: ["@tenantry/source"],
    keepNames: true,
    sourcemap: true,
    banner: { js: BANNER },
    logLevel: "warning",
    plugins: [
      {
        name: "tenantry-locations",
        setup(builder) {
          builder.onResolve({ filter: /.*/ }, async (args) => {
            if (args.pluginData === "resolving" || args.kind === "entry-point") return undefined;
            if (args.path.startsWith("node:")) return { path: args.path, external: true };
            const found = await builder.resolve(args.path, {
              kind: args.kind,
              importer: args.importer,
              resolveDir: args.resolveDir,
              pluginData: "resolving",
            });
            // Not there (an optional peer: another database's driver, pg-native; a file tried in turn): it is
            // looked for at run time where it would have been, and missing there as it is now.
            if (found.errors.length > 0) {
              const relativePath = args.path.startsWith("./") || args.path.startsWith("../");
              return {
                path: relativePath ? fromBundle(resolve(args.resolveDir, args.path)) : args.path,
                external: true,
              };
            }
            if (found.external) return found;
            if (found.path.endsWith(".node")) return { path: fromBundle(found.path), external: true };
            return undefined;
          });
          builder.onLoad({ filter: /\.(?:ts|js|mjs|cjs)$/ }, (args) => {
            const source = readFileSync(args.path, "utf8");
            LOCATION.lastIndex = 0;
            if (!LOCATION.test(source)) return undefined;
            const file = JSON.stringify(fromBundle(args.path));
            const directory = JSON.stringify(fromBundle(dirname(args.path)));
            return {
              contents: source.replace(LOCATION, (found) =>
                found === "__dirname"
                  ? `__tenantryPath(${directory})`
                  : found === "__filename"
                    ? `__tenantryPath(${file})`
                    : `__tenantryUrl(${file})`,
              ),
              loader: LOADERS[extname(args.path)],
              resolveDir: dirname(args.path),
            };
          });
        },
      },
    ],
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await bundleServer(process.argv[2]);
}
