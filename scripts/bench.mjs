// `npm run bench`: install what is missing, build the server, then run the
// benchmark suite (bench/): the product and a node:http + pg floor as separate
// processes on fresh PostgreSQL databases, then the embedded database.
// Arguments go to the bench: `npm run bench -- --quick`, `-- --help`.
import { buildIfChanged, ensureInstalled, pnpm, say } from "./workspace.mjs";

ensureInstalled();

buildIfChanged(["run", "build", "--filter=@tenantry/server...", "--output-logs=errors-only"]);

say("Running the bench (results also go to bench/results/latest.json)...");
pnpm(["--silent", "--filter", "@tenantry/bench", "run", "bench", ...process.argv.slice(2)]);
