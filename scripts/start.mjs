// `npm start`: install what is missing, build, then serve in this very process
// (no wrapper process left to orphan the server when a signal arrives).
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { buildIfChanged, ensureInstalled, root, say } from "./workspace.mjs";

ensureInstalled();
buildIfChanged(
  ["run", "build", "--filter=@tenantry/server...", "--filter=@tenantry/web", "--output-logs=errors-only"],
  "Building the server and the web console...",
);
process.env.NODE_ENV ??= "production";
say(
  process.env.DATABASE_URL
    ? "Starting on PostgreSQL (DATABASE_URL)."
    : `Starting on the embedded database in ${process.env.DATA_DIR ?? ".data"} (set DATABASE_URL to use PostgreSQL).`,
);
await import(pathToFileURL(join(root, "apps", "server", "dist", "main.js")).href);
