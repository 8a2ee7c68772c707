// `npm start`: install what is missing, build, then serve in this very process
// (no wrapper process left to orphan the server when a signal arrives). It runs
// the bundled server (apps/server/scripts/bundle.mjs), which loads in a
// fraction of the time its ~1,300 modules take from node_modules.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { buildIfChanged, ensureInstalled, root, say } from "./workspace.mjs";

const SERVER = join("apps", "server", "dist", "bundle", "main.js");

ensureInstalled();
buildIfChanged(
  ["run", "build", "--filter=@tenantry/server...", "--filter=@tenantry/web", "--output-logs=errors-only"],
  "Building the server and the web console...",
  [SERVER],
);
process.env.NODE_ENV ??= "production";
say(
  process.env.DATABASE_URL
    ? "Starting on PostgreSQL (DATABASE_URL)."
    : `Starting on the embedded database in ${process.env.DATA_DIR ?? ".data"} (set DATABASE_URL to use PostgreSQL).`,
);
await import(pathToFileURL(join(root, SERVER)).href);
