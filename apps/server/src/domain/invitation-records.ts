import { type Invitation, isoTimestamp, type Role } from "@tenantry/db";
import type { InvitationStatus, InvitationView } from "./views.js";

/**
 * Invitations as rows: the columns a read selects, the row it returns and the
 * one mapping from a row to the view. An invitation loaded as an entity is
 * put in the same row shape first (`invitationRow`), so there is one mapper.
 */
export interface InvitationRow {
  id: string;
  tenant_id: string;
  email: string;
  role: Role | null;
  status: InvitationStatus;
  invited_by_id: string | null;
  created_at: string;
  expires_at: string;
  accepted_at: string | null;
  email_delivery: Invitation["emailDelivery"];
}

/** The select list of an `InvitationRow` from `invitations i`; its one placeholder is the instant `status` is read at. */
export const INVITATION_COLUMNS = `i.id, i.tenant_id, i.email, i.role,
        case when i.state = 'pending' and i.expires_at <= ?::timestamptz then 'expired' else i.state end as status,
        i.invited_by_id, ${isoTimestamp("i.created_at")} as created_at, ${isoTimestamp("i.expires_at")} as expires_at,
        ${isoTimestamp("i.accepted_at")} as accepted_at, i.email_delivery`;

export function invitationView(row: InvitationRow): InvitationView {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    email: row.email,
    role: row.role,
    status: row.status,
    invitedById: row.invited_by_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    acceptedAt: row.accepted_at,
    emailDelivery: row.email_delivery,
  };
}

/** `expired` is not stored: a pending invitation past its expiry reads as expired. */
export function invitationStatus(invitation: Pick<Invitation, "state" | "expiresAt">, now: Date): InvitationStatus {
  return invitation.state === "pending" && invitation.expiresAt.getTime() <= now.getTime()
    ? "expired"
    : invitation.state;
}

type InvitationFields = Pick<
  Invitation,
  | "id"
  | "tenant"
  | "email"
  | "role"
  | "state"
  | "invitedBy"
  | "createdAt"
  | "expiresAt"
  | "acceptedAt"
  | "emailDelivery"
>;

/** A loaded invitation as the row a read would return at `now`. */
export function invitationRow(invitation: InvitationFields, now: Date): InvitationRow {
  return {
    id: invitation.id,
    tenant_id: invitation.tenant,
    email: invitation.email,
    role: invitation.role ?? null,
    status: invitationStatus(invitation, now),
    invited_by_id: invitation.invitedBy ?? null,
    created_at: invitation.createdAt.toISOString(),
    expires_at: invitation.expiresAt.toISOString(),
    accepted_at: invitation.acceptedAt ? invitation.acceptedAt.toISOString() : null,
    email_delivery: invitation.emailDelivery,
  };
}

/**
 * The assignments that end a pending invitation (`state` becomes `ended`):
 * its token is no longer sealed for delivery, and an email that has not gone
 * out is cancelled (recorded as failed, with the reason). The first
 * placeholder is the instant it ended at.
 */
export function endPendingSql(ended: "revoked" | "accepted"): string {
  return `state = '${ended}', ${ended}_at = ?,
    delivery_token_ciphertext = null, delivery_next_attempt_at = null,
    delivery_last_error = case when email_delivery = 'pending'
      then 'Cancelled: the invitation was ${ended} before delivery.' else delivery_last_error end,
    email_delivery = case when email_delivery = 'pending' then 'failed' else email_delivery end`;
}

/** Revokes the pending invitations that the appended conditions (`and …`) select. */
export const REVOKE_PENDING = `update invitations set ${endPendingSql("revoked")} where state = 'pending'`;
