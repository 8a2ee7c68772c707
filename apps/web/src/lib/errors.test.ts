import { TRPCClientError } from "@trpc/client";
import { describe, expect, it } from "vitest";
import { describeProblem, formErrors, toProblem } from "./errors.ts";

/** An error as the client receives it: the server's tRPC shape, with the fields its error formatter adds. */
function apiError(code: string, message: string, extra: Record<string, unknown> = {}) {
  return TRPCClientError.from({
    error: { message, code: -32600, data: { code, httpStatus: 400, fieldErrors: {}, ...extra } },
  });
}

describe("client error mapping", () => {
  it("reads the code, the message, the field errors and the wait from the API's error", () => {
    const problem = toProblem(
      apiError("BAD_REQUEST", "email: Enter a valid email address.", {
        fieldErrors: { email: ["Enter a valid email address."] },
      }),
    );
    expect(problem).toEqual({
      code: "BAD_REQUEST",
      message: "email: Enter a valid email address.",
      fieldErrors: { email: ["Enter a valid email address."] },
    });
    expect(toProblem(apiError("TOO_MANY_REQUESTS", "Request was throttled.", { retryAfter: 42 })).retryAfter).toBe(42);
  });

  it("calls anything that is not the API's answer a network problem", () => {
    expect(toProblem(new TypeError("Failed to fetch")).code).toBe("NETWORK");
    expect(toProblem(TRPCClientError.from(new Error("socket hang up"))).code).toBe("NETWORK");
  });

  it("says the wait of a throttled call in seconds", () => {
    const throttled = { code: "TOO_MANY_REQUESTS", message: "Request was throttled.", fieldErrors: {} };
    expect(describeProblem({ ...throttled, retryAfter: 30 })).toBe("Too many attempts. Try again in 30 seconds.");
    expect(describeProblem({ ...throttled, retryAfter: 1 })).toBe("Too many attempts. Try again in 1 second.");
    expect(describeProblem(throttled)).toBe("Too many attempts. Wait a moment, then try again.");
  });

  it("keeps the API's words for a refusal such as the last ADMIN's", () => {
    const words = "This is the tenant's last ADMIN assignment; grant ADMIN to someone else before revoking it.";
    expect(describeProblem({ code: "BAD_REQUEST", message: words, fieldErrors: {} })).toBe(words);
  });

  it("puts messages next to the fields a form shows and the rest at the top", () => {
    const problem = {
      code: "BAD_REQUEST",
      message: "…",
      fieldErrors: {
        password: ["This password is too short.", "This password is too common."],
        nonFieldErrors: ["Unable to log in with provided credentials."],
        token: ["This invitation has expired."],
      },
    };
    expect(formErrors(problem, ["password", "email"])).toEqual({
      fields: { password: "This password is too short. This password is too common." },
      form: "Unable to log in with provided credentials. This invitation has expired.",
    });
    expect(formErrors({ code: "FORBIDDEN", message: "…", fieldErrors: {} }, ["email"])).toEqual({
      fields: {},
      form: "You do not have permission to do this.",
    });
    expect(formErrors(null, ["email"])).toEqual({ fields: {}, form: null });
  });
});
