import type { AppRouter, RouterInputs, RouterOutputs } from "@tenantry/server";
import { createTRPCClient, httpBatchLink } from "@trpc/client";

/**
 * The console's one way to the server: tRPC with the router's own types, so a
 * renamed field breaks the build. The session cookie (HttpOnly) rides along;
 * the browser adds the Origin the server checks on every change.
 */
export const api = createTRPCClient<AppRouter>({
  links: [httpBatchLink({ url: "/trpc", maxURLLength: 2000 })],
});

export type Inputs = RouterInputs;
export type Outputs = RouterOutputs;
export type User = Outputs["user"]["me"];
export type Role = User["roles"][number];
export type Invitation = Outputs["invite"]["extend"];
export type InvitationStatus = Invitation["status"];
export type AuditEvent = Outputs["audit"]["page"]["results"][number];
export type AuditAction = AuditEvent["action"];
export type Tenant = Outputs["tenant"]["get"];

export const ROLES: Record<Role, string> = { ADMIN: "Admin", ANALYST: "Analyst", VIEWER: "Viewer" };
export const INVITATION_STATUSES: Record<InvitationStatus, string> = {
  pending: "Pending",
  accepted: "Accepted",
  revoked: "Revoked",
  expired: "Expired",
};
/** Every audit action, named in words (a Record, so a new action on the server breaks the build until it is named). */
export const AUDIT_ACTIONS: Record<AuditAction, string> = {
  "tenant.created": "Tenant created",
  "auth.login_succeeded": "Signed in",
  "auth.login_failed": "Sign-in failed",
  "auth.logout": "Signed out",
  "invitation.created": "Invitation created",
  "invitation.resent": "Invitation re-sent",
  "invitation.extended": "Invitation extended",
  "invitation.revoked": "Invitation revoked",
  "invitation.accepted": "Invitation accepted",
  "invitation.purged": "Invitations purged",
  "role.granted": "Role granted",
  "role.revoked": "Role revoked",
  "superuser.created": "Superuser created",
  "email.delivery_failed": "Email delivery failed",
  "webhook.created": "Webhook added",
  "webhook.removed": "Webhook removed",
  "webhook.tested": "Webhook tested",
  "webhook.disabled": "Webhook disabled",
  "user.updated": "Names changed",
  "user.deactivated": "Member deactivated",
  "user.activated": "Member activated",
  "user.deleted": "Member removed",
  "auth.password_changed": "Password changed",
  "auth.session_ended": "Session ended",
  "auth.sessions_ended": "Other sessions ended",
  "auth.password_reset_requested": "Password reset requested",
  "auth.password_reset": "Password reset",
};

export const isAdmin = (user: User) => user.isSuperuser || user.roles.includes("ADMIN");
