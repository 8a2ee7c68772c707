// `npm run tenantry -- <command>`: the operations CLI, built on demand.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ensureInstalled, root, turbo } from "./workspace.mjs";

ensureInstalled();
turbo(["run", "build", "--filter=@tenantry/server...", "--output-logs=errors-only"]);
await import(pathToFileURL(join(root, "apps", "server", "dist", "cli.js")).href);
