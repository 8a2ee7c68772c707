import { useQuery } from "@tanstack/react-query";
import { api } from "../lib/api.ts";
import { type Problem, toProblem } from "../lib/errors.ts";

/**
 * What the accept page shows before the invitee types anything: API.md's
 * `invite.preview` (`POST /api/users/invitations/preview/`), taking `{ token }`
 * and answering `{ status, email, role, tenant: { name, slug }, invitedByName,
 * expiresAt }` for a pending invitation, `{ status: "expired" | "accepted" }`
 * otherwise, and 404 for an unknown or revoked token.
 *
 * When the preview cannot be had (the server unreachable, throttled), the hook
 * answers `unavailable` and the page shows the accept form alone; accepting
 * still tells expired, accepted and invalid invitations apart from the API's
 * answer.
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
 * The preview of the invitation `token` names, read once (it is a mutation on
 * the wire, since it takes a secret, but changes nothing: safe to ask as a query).
 */
export function useInvitationPreview(token: string | null): InvitationPreview {
  const preview = useQuery({
    queryKey: ["invite.preview", token],
    queryFn: () => api.invite.preview.mutate({ token: token ?? "" }),
    enabled: token !== null,
    retry: false,
    staleTime: Number.POSITIVE_INFINITY,
    refetchOnWindowFocus: false,
  });
  if (!token) return { state: "unavailable" };
  if (preview.isPending) return { state: "loading" };
  if (preview.error) return previewState({ problem: toProblem(preview.error) });
  return previewState({ answer: preview.data });
}
