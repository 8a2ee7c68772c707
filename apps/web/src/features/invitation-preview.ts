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

export function useInvitationPreview(_token: string | null): InvitationPreview {
  return { state: "unavailable" };
}
