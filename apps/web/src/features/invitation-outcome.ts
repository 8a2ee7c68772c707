import type { Problem } from "../lib/errors.ts";

export type InvitationOutcome = "expired" | "accepted" | "invalid";

/**
 * Which dead end an accept attempt met, from the API's words on `token`
 * ("This invitation has expired.", "...already been accepted.", "Invalid or
 * revoked invitation token."); null when the problem is something else (a
 * weak password, say), which the form shows next to its field.
 */
export function invitationOutcome(problem: Problem | null): InvitationOutcome | null {
  const messages = problem?.fieldErrors.token;
  if (!messages?.length) return null;
  const words = messages.join(" ").toLowerCase();
  if (words.includes("expired")) return "expired";
  if (words.includes("accepted")) return "accepted";
  return "invalid";
}
