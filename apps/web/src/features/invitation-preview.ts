import type { Problem } from "../lib/errors.ts";

/**
 * What the accept page shows before the invitee types anything: API.md's
 * `invite.preview` (`POST /api/users/invitations/preview/`), taking `{ token }`
 * and answering `{ status, email, role, tenant: { name, slug }, invitedByName,
 * expiresAt }` for a pending invitation, `{ status: "expired" | "accepted" }`
 * otherwise, and 404 for an unknown or revoked token.
 *
 * That procedure belongs to the second release (issue #12) and is not in this
 * server's router yet, so this hook answers `unavailable` and the page shows
 * the accept form alone; accepting still tells expired, accepted and invalid
 * invitations apart from the API's answer. When the procedure exists, this
 * hook is the one place to connect it.
 */
export type InvitationPreview =
  | { state: "unavailable" }
  | { state: "loading" }
  | {
      state: "pending";
      email: string;
      role: string | null;
      tenant: { name: string; slug: string };
      invitedByName: string | null;
      expiresAt: string;
    }
  | { state: "expired" }
  | { state: "accepted" }
  | { state: "invalid" };

/** The preview's answer as API.md words it (camelCase, as tRPC gives it). */
export interface PreviewAnswer {
  status: "pending" | "expired" | "accepted";
  email?: string;
  role?: string | null;
  tenant?: { name: string; slug: string };
  invitedByName?: string | null;
  expiresAt?: string;
}

/** What the page shows for the preview's answer, or for its failure (404: unknown or revoked). */
export function previewState(outcome: { answer: PreviewAnswer } | { problem: Problem }): InvitationPreview {
  if ("problem" in outcome)
    return outcome.problem.code === "NOT_FOUND" ? { state: "invalid" } : { state: "unavailable" };
  const { answer } = outcome;
  if (answer.status !== "pending") return { state: answer.status };
  if (!answer.email || !answer.tenant || !answer.expiresAt) return { state: "unavailable" };
  return {
    state: "pending",
    email: answer.email,
    role: answer.role ?? null,
    tenant: answer.tenant,
    invitedByName: answer.invitedByName ?? null,
    expiresAt: answer.expiresAt,
  };
}

/**
 * To connect once `invite.preview` exists: a `useQuery` keyed by the token
 * (`retry: false`, disabled without a token) calling it, answering
 * `{ state: "loading" }` while pending and `previewState(...)` with its data
 * or `toProblem(error)`.
 */
export function useInvitationPreview(_token: string | null): InvitationPreview {
  return { state: "unavailable" };
}
