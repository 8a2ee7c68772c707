import type { z } from "zod";
import { login, logout } from "../../domain/sessions.js";
import { me } from "../../domain/users.js";
import { email, fields, loginOutput, password, tenantRef, userOutput } from "../../schemas.js";
import { THROTTLE_RULES } from "../../throttle.js";
import { publicProcedure, router, sessionProcedure, throttled } from "../trpc.js";

const loginInput = fields({ email, password, tenant: tenantRef.optional() });

export const authRouter = router({
  /** Starts a session; its token is the bearer token and the cookie value. */
  login: publicProcedure
    .input(loginInput)
    .use(
      throttled([
        { rule: THROTTLE_RULES.loginPerIp, by: "ip" },
        { rule: THROTTLE_RULES.loginPerEmail, by: (input) => (input as z.infer<typeof loginInput>).email },
      ]),
    )
    .output(loginOutput)
    .mutation(async ({ ctx, input }) => {
      const session = await login(ctx.svc, input);
      ctx.recordSession({ kind: "started", token: session.token, expiresAt: new Date(session.expiresAt) });
      return session;
    }),

  /** Ends the calling session only. */
  logout: sessionProcedure.mutation(async ({ ctx }) => {
    await logout(ctx.svc, ctx.caller);
    ctx.recordSession({ kind: "ended" });
  }),

  me: sessionProcedure.output(userOutput).query(({ ctx }) => me(ctx.caller)),
});
