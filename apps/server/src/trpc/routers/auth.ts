import { z } from "zod";
import { endOtherSessions, endOwnSession, listOwnSessions } from "../../domain/my-sessions.js";
import { confirmPasswordReset, requestPasswordReset } from "../../domain/password-resets.js";
import { changePassword } from "../../domain/passwords.js";
import { login, logout } from "../../domain/sessions.js";
import { me } from "../../domain/users.js";
import {
  email,
  fields,
  loginOutput,
  password,
  sessionId,
  sessionOutput,
  tenantRef,
  token,
  userOutput,
} from "../../schemas.js";
import { THROTTLE_RULES } from "../../throttle.js";
import { publicProcedure, router, sessionProcedure, throttled } from "../trpc.js";

const loginInput = fields({ email, password, tenant: tenantRef.optional() });
const resetInput = fields({ email, tenant: tenantRef.optional() });

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

  /** Every other session of the caller ends; the calling one stays. Throttled like login. */
  changePassword: sessionProcedure
    .use(throttled([{ rule: THROTTLE_RULES.passwordChangePerIp, by: "ip" }]))
    .use(async ({ ctx, next }) => {
      await ctx.services.throttle.hit(THROTTLE_RULES.passwordChangePerUser, ctx.caller.user.id);
      return next();
    })
    .input(fields({ currentPassword: password, newPassword: password }))
    .mutation(async ({ ctx, input }) => {
      await changePassword(ctx.svc, ctx.caller, input);
    }),

  /** The caller's live sessions, newest first. */
  sessions: sessionProcedure.output(z.array(sessionOutput)).query(({ ctx }) => listOwnSessions(ctx.svc, ctx.caller)),

  /** Ends one of the caller's sessions; anyone else's is NOT_FOUND. */
  endSession: sessionProcedure.input(fields({ id: sessionId })).mutation(async ({ ctx, input }) => {
    await endOwnSession(ctx.svc, ctx.caller, input.id);
  }),

  /** Ends every session of the caller but the current one. */
  endOtherSessions: sessionProcedure.mutation(async ({ ctx }) => {
    await endOtherSessions(ctx.svc, ctx.caller);
  }),

  /**
   * Emails a one-time reset link to each active account with this address;
   * the same answer, in about the same time, whether or not there is one.
   */
  requestPasswordReset: publicProcedure
    .input(resetInput)
    .use(
      throttled([
        { rule: THROTTLE_RULES.passwordResetPerIp, by: "ip" },
        { rule: THROTTLE_RULES.passwordResetPerEmail, by: (input) => (input as z.infer<typeof resetInput>).email },
      ]),
    )
    .output(z.object({ detail: z.string() }))
    .mutation(({ ctx, input }) => requestPasswordReset(ctx.svc, input)),

  /** Sets the password with a reset token (once); every session of the user ends. */
  confirmPasswordReset: publicProcedure
    .use(throttled([{ rule: THROTTLE_RULES.passwordResetConfirmPerIp, by: "ip" }]))
    .input(fields({ token, newPassword: password }))
    .mutation(async ({ ctx, input }) => {
      await confirmPasswordReset(ctx.svc, input);
    }),
});
