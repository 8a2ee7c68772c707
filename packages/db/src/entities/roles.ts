/** The roles a user can hold in a tenant. Case-sensitive, as stored. */
export const ROLES = ["ADMIN", "ANALYST", "VIEWER"] as const;
export type Role = (typeof ROLES)[number];

/** Stored invitation states; `expired` is derived from `expiresAt` when read. */
export const INVITATION_STATES = ["pending", "accepted", "revoked"] as const;
export type InvitationState = (typeof INVITATION_STATES)[number];

export const EMAIL_DELIVERY_STATES = ["pending", "sent", "failed"] as const;
export type EmailDeliveryState = (typeof EMAIL_DELIVERY_STATES)[number];
