import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { auditRouter } from "./routers/audit.js";
import { authRouter } from "./routers/auth.js";
import { inviteRouter } from "./routers/invite.js";
import { opsRouter } from "./routers/ops.js";
import { roleRouter } from "./routers/role.js";
import { tenantRouter } from "./routers/tenant.js";
import { userRouter } from "./routers/user.js";
import { createCallerFactory, router } from "./trpc.js";

export const appRouter = router({
  auth: authRouter,
  tenant: tenantRouter,
  user: userRouter,
  invite: inviteRouter,
  role: roleRouter,
  audit: auditRouter,
  ops: opsRouter,
});

export type AppRouter = typeof appRouter;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;

export const createCaller = createCallerFactory(appRouter);
