export { type AppDependencies, buildApp } from "./app.js";
export { type Env, InvalidEnvironment, loadEnv } from "./env.js";
export { createLogger, type Logger } from "./logger.js";
export { type RunningServer, startServer } from "./server.js";
export type { AppRouter, RouterInputs, RouterOutputs } from "./trpc/router.js";
