import { describe, expect, it } from "vitest";
import { auditFilter } from "./audit-filter.ts";
import { invitationOutcome } from "./invitation-outcome.ts";
import { previewState } from "./invitation-preview.ts";

const tokenProblem = (message: string) => ({ code: "BAD_REQUEST", message, fieldErrors: { token: [message] } });

describe("form logic", () => {
  it("tells the accept page's dead ends apart from the API's words on the token", () => {
    expect(invitationOutcome(tokenProblem("This invitation has expired."))).toBe("expired");
    expect(invitationOutcome(tokenProblem("This invitation has already been accepted."))).toBe("accepted");
    expect(invitationOutcome(tokenProblem("Invalid or revoked invitation token."))).toBe("invalid");
    expect(
      invitationOutcome({
        code: "BAD_REQUEST",
        message: "…",
        fieldErrors: { password: ["This password is too common."] },
      }),
    ).toBeNull();
    expect(invitationOutcome(null)).toBeNull();
  });

  it("turns the audit filter form into the API's input, counting the whole of the last day", () => {
    expect(auditFilter({ action: "", actor: "  ", since: "", until: "" })).toEqual({});
    expect(
      auditFilter({ action: "role.granted", actor: " ada@acme.example ", since: "2026-11-01", until: "2026-11-30" }),
    ).toEqual({ action: "role.granted", actor: "ada@acme.example", since: "2026-11-01", until: "2026-12-01" });
    expect(auditFilter({ tenant: "acme", until: "2026-12-31" })).toEqual({ tenant: "acme", until: "2027-01-01" });
  });

  it("reads the invitation preview's answers as API.md words them", () => {
    const tenant = { name: "Acme Robotics", slug: "acme-robotics" };
    const answer = {
      status: "pending" as const,
      email: "grace@acme.example",
      role: "ANALYST",
      tenant,
      invitedByName: "Ada Lovelace",
      expiresAt: "2026-12-08T10:00:00Z",
    };
    expect(previewState({ answer })).toEqual({
      state: "pending",
      email: "grace@acme.example",
      role: "ANALYST",
      tenant,
      invitedByName: "Ada Lovelace",
      expiresAt: "2026-12-08T10:00:00Z",
    });
    expect(previewState({ answer: { status: "expired" } })).toEqual({ state: "expired" });
    expect(previewState({ answer: { status: "accepted" } })).toEqual({ state: "accepted" });
    expect(previewState({ problem: { code: "NOT_FOUND", message: "Not found.", fieldErrors: {} } })).toEqual({
      state: "invalid",
    });
    expect(previewState({ problem: { code: "TOO_MANY_REQUESTS", message: "…", fieldErrors: {} } })).toEqual({
      state: "unavailable",
    });
  });
});
