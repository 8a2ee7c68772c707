import type { AnyProcedure } from "@trpc/server";
import type { AppRouter } from "../trpc/router.js";

type Paths<T, Prefix extends string = ""> = {
  [K in keyof T & string]: T[K] extends AnyProcedure ? `${Prefix}${K}` : Paths<T[K], `${Prefix}${K}.`>;
}[keyof T & string];

/** `"role.grant"` and the like: every procedure of the router, by its dotted path. */
export type ProcedurePath = Paths<AppRouter["_def"]["record"]>;

/**
 * One REST endpoint of the old backend, as a call of one tRPC procedure. The
 * shim only moves names and values between the two; every rule is in the
 * procedure.
 */
export interface RestRoute {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** The documented path, `{id}` for the path parameter. */
  path: string;
  procedure: ProcedurePath;
  /** With `?limit=`, the list is answered by this procedure, in DRF's envelope. */
  pageProcedure?: ProcedurePath;
  /** With `?cursor=` (even empty), by this one, in DRF's CursorPagination envelope. */
  cursorProcedure?: ProcedurePath;
  status: 200 | 201 | 202 | 204;
  /** Wire names taken from the JSON body; anything else in it is ignored. */
  body?: string[];
  /** Other wire names the body may use instead (`first_name` for `admin_first_name`). */
  bodyAliases?: Record<string, string>;
  /** Wire names taken from the query string. */
  query?: string[];
  /** How `{id}` is matched: a UUID, a tenant's id or slug, or a session's id. */
  id?: "uuid" | "ref" | "session";
  /** Sets (login) or clears (logout) the session cookie, as the OpenAPI document says (the procedure records it). */
  session?: "start" | "end";
  summary: string;
  tag: "tenants" | "auth" | "users" | "invitations" | "roles" | "audit" | "ops";
}

export const REST_ROUTES: RestRoute[] = [
  {
    method: "POST",
    path: "/api/tenants/",
    procedure: "tenant.create",
    status: 201,
    body: ["name", "admin_email", "admin_password", "admin_first_name", "admin_last_name"],
    bodyAliases: { first_name: "admin_first_name", last_name: "admin_last_name" },
    summary: "Create a tenant and its first ADMIN (self-service sign-up; throttled per client IP)",
    tag: "tenants",
  },
  {
    method: "GET",
    path: "/api/tenants/",
    procedure: "tenant.list",
    pageProcedure: "tenant.page",
    status: 200,
    summary: "The caller's tenant; every tenant for a superuser",
    tag: "tenants",
  },
  {
    method: "GET",
    path: "/api/tenants/{id}/",
    procedure: "tenant.get",
    status: 200,
    id: "ref",
    summary: "One tenant, by id or slug (members of it, superusers)",
    tag: "tenants",
  },
  {
    method: "POST",
    path: "/api/auth/login/",
    procedure: "auth.login",
    status: 200,
    body: ["email", "password", "tenant"],
    session: "start",
    summary: "Log in: a session token (bearer) and the `session` cookie (throttled per IP and per email)",
    tag: "auth",
  },
  {
    method: "POST",
    path: "/api/auth/logout/",
    procedure: "auth.logout",
    status: 204,
    session: "end",
    summary: "End the calling session; its token stops working at once",
    tag: "auth",
  },
  {
    method: "POST",
    path: "/api/auth/password/change/",
    procedure: "auth.changePassword",
    status: 204,
    body: ["current_password", "new_password"],
    summary: "Change the caller's password; every other session of theirs ends, this one stays (throttled like login)",
    tag: "auth",
  },
  {
    method: "POST",
    path: "/api/auth/password/reset/",
    procedure: "auth.requestPasswordReset",
    status: 202,
    body: ["email", "tenant"],
    summary:
      "Email a one-time reset link (60 minutes) to each active account with this address; the same answer whether or not one exists (throttled per IP and per email)",
    tag: "auth",
  },
  {
    method: "POST",
    path: "/api/auth/password/reset/confirm/",
    procedure: "auth.confirmPasswordReset",
    status: 204,
    body: ["token", "new_password"],
    summary: "Set a new password with a reset token (once); every session of the user ends (throttled per IP)",
    tag: "auth",
  },
  {
    method: "GET",
    path: "/api/auth/sessions/",
    procedure: "auth.sessions",
    status: 200,
    summary: "The caller's live sessions, newest first (`current` marks this one)",
    tag: "auth",
  },
  {
    method: "DELETE",
    path: "/api/auth/sessions/",
    procedure: "auth.endOtherSessions",
    status: 204,
    summary: "End every session of the caller but this one",
    tag: "auth",
  },
  {
    method: "DELETE",
    path: "/api/auth/sessions/{id}/",
    procedure: "auth.endSession",
    status: 204,
    id: "session",
    summary: "End one of the caller's sessions",
    tag: "auth",
  },
  { method: "GET", path: "/api/users/me/", procedure: "user.me", status: 200, summary: "The caller", tag: "users" },
  {
    method: "PATCH",
    path: "/api/users/me/",
    procedure: "user.updateMe",
    status: 200,
    body: ["first_name", "last_name"],
    summary: "Change the caller's own first and last name",
    tag: "users",
  },
  {
    method: "GET",
    path: "/api/users/",
    procedure: "user.list",
    pageProcedure: "user.page",
    status: 200,
    query: ["is_active", "tenant"],
    summary: "The users of the caller's tenant (superuser: `?tenant=` required); `?is_active=true|false` filters",
    tag: "users",
  },
  {
    method: "POST",
    path: "/api/users/{id}/deactivate/",
    procedure: "user.deactivate",
    status: 200,
    id: "uuid",
    summary:
      "Deactivate a member: every session of theirs ends at once and they cannot log in; roles stay (tenant ADMIN, superuser; the last active ADMIN stays)",
    tag: "users",
  },
  {
    method: "POST",
    path: "/api/users/{id}/activate/",
    procedure: "user.activate",
    status: 200,
    id: "uuid",
    summary: "Activate a deactivated member again; they log in anew (tenant ADMIN, superuser)",
    tag: "users",
  },
  {
    method: "DELETE",
    path: "/api/users/{id}/",
    procedure: "user.remove",
    status: 204,
    id: "uuid",
    summary:
      "Delete a member with their role assignments and sessions; audit events stay (tenant ADMIN, superuser; the last active ADMIN stays)",
    tag: "users",
  },
  {
    method: "POST",
    path: "/api/users/invite/",
    procedure: "invite.create",
    status: 201,
    body: ["email", "role", "tenant"],
    summary: "Invite an email with an optional role (tenant ADMIN; superuser passes `tenant`); the token is shown once",
    tag: "invitations",
  },
  {
    method: "GET",
    path: "/api/users/invitations/",
    procedure: "invite.list",
    pageProcedure: "invite.page",
    cursorProcedure: "invite.cursor",
    status: 200,
    query: ["status", "tenant"],
    summary: "Invitations, never with their tokens (tenant ADMIN, superuser)",
    tag: "invitations",
  },
  {
    method: "DELETE",
    path: "/api/users/invitations/{id}/",
    procedure: "invite.revoke",
    status: 204,
    id: "uuid",
    summary: "Revoke an invitation; its token stops working",
    tag: "invitations",
  },
  {
    method: "POST",
    path: "/api/users/invitations/{id}/extend/",
    procedure: "invite.extend",
    status: 200,
    id: "uuid",
    body: ["days"],
    summary: "Extend a pending or expired invitation to now + days (1–30, default 7)",
    tag: "invitations",
  },
  {
    method: "POST",
    path: "/api/users/invite/bulk/",
    procedure: "invite.bulk",
    status: 200,
    body: ["invitations", "tenant"],
    summary:
      "Invite 1 to 100 addresses at once; per-row results in input order, each created row mailed as a single invite (tenant ADMIN, superuser passes `tenant`)",
    tag: "invitations",
  },
  {
    method: "POST",
    path: "/api/users/invitations/preview/",
    procedure: "invite.preview",
    status: 200,
    body: ["token"],
    summary:
      "What an accept link's page shows: a pending invitation's email, role, tenant, inviter and expiry; only the status when expired or accepted; 404 when unknown or revoked (throttled per IP)",
    tag: "invitations",
  },
  {
    method: "POST",
    path: "/api/users/accept-invite/",
    procedure: "invite.accept",
    status: 201,
    body: ["token", "password", "first_name", "last_name"],
    summary: "Accept an invitation: creates the user in the inviting tenant (throttled per IP)",
    tag: "invitations",
  },
  {
    method: "GET",
    path: "/api/user-roles/",
    procedure: "role.list",
    pageProcedure: "role.page",
    status: 200,
    query: ["user", "role", "tenant"],
    summary: "Role assignments of the caller's tenant (superuser: all, or `?tenant=`)",
    tag: "roles",
  },
  {
    method: "POST",
    path: "/api/user-roles/",
    procedure: "role.grant",
    status: 201,
    body: ["user", "role"],
    summary: "Grant a role to a user (tenant ADMIN, superuser)",
    tag: "roles",
  },
  {
    method: "DELETE",
    path: "/api/user-roles/{id}/",
    procedure: "role.revoke",
    status: 204,
    id: "uuid",
    summary: "Revoke a role assignment; a tenant's last ADMIN cannot be revoked",
    tag: "roles",
  },
  {
    method: "POST",
    path: "/api/users/invitations/{id}/resend/",
    procedure: "invite.resend",
    status: 200,
    id: "uuid",
    summary:
      "Send a pending or expired invitation again: new token (the old one stops working), new expiry, email again",
    tag: "invitations",
  },
  {
    method: "GET",
    path: "/api/audit-events/",
    procedure: "audit.list",
    pageProcedure: "audit.page",
    cursorProcedure: "audit.cursor",
    status: 200,
    query: ["action", "actor", "since", "until", "tenant"],
    summary: "The audit trail, newest first (tenant ADMIN: own tenant; superuser: all, or `?tenant=`)",
    tag: "audit",
  },
  // Superusers' operations (the old Django admin's tasks).
  {
    method: "GET",
    path: "/api/ops/tenants/",
    procedure: "ops.tenants",
    status: 200,
    summary: "Every tenant",
    tag: "ops",
  },
  {
    method: "GET",
    path: "/api/ops/users/",
    procedure: "ops.users",
    status: 200,
    query: ["tenant"],
    summary: "The users of one tenant (`?tenant=` id or slug, required)",
    tag: "ops",
  },
  {
    method: "GET",
    path: "/api/ops/invitations/",
    procedure: "ops.invitations",
    status: 200,
    query: ["status", "tenant"],
    summary: "Invitations of every tenant, or of `?tenant=`",
    tag: "ops",
  },
  {
    method: "POST",
    path: "/api/ops/invitations/purge-expired/",
    procedure: "ops.purgeInvitations",
    status: 200,
    body: ["older_than_days", "dry_run", "tenant"],
    summary: "Delete invitations expired or revoked more than `older_than_days` ago (default: the retention setting)",
    tag: "ops",
  },
  {
    method: "POST",
    path: "/api/ops/invitations/{id}/extend/",
    procedure: "ops.extendInvitation",
    status: 200,
    id: "uuid",
    body: ["days"],
    summary: "Extend any tenant's invitation",
    tag: "ops",
  },
  {
    method: "POST",
    path: "/api/ops/invitations/{id}/resend/",
    procedure: "ops.resendInvitation",
    status: 200,
    id: "uuid",
    summary: "Re-send any tenant's invitation",
    tag: "ops",
  },
  {
    method: "DELETE",
    path: "/api/ops/invitations/{id}/",
    procedure: "ops.revokeInvitation",
    status: 204,
    id: "uuid",
    summary: "Revoke any tenant's invitation",
    tag: "ops",
  },
  {
    method: "GET",
    path: "/api/ops/user-roles/",
    procedure: "ops.roles",
    status: 200,
    query: ["user", "role", "tenant"],
    summary: "Role assignments of every tenant, or of `?tenant=`",
    tag: "ops",
  },
  {
    method: "POST",
    path: "/api/ops/user-roles/",
    procedure: "ops.grantRole",
    status: 201,
    body: ["user", "role"],
    summary: "Grant a role to any user",
    tag: "ops",
  },
  {
    method: "DELETE",
    path: "/api/ops/user-roles/{id}/",
    procedure: "ops.revokeRole",
    status: 204,
    id: "uuid",
    summary: "Revoke any role assignment (a tenant's last ADMIN stays)",
    tag: "ops",
  },
  {
    method: "GET",
    path: "/api/ops/audit-events/",
    procedure: "ops.audit",
    status: 200,
    query: ["action", "actor", "since", "until", "tenant"],
    summary: "The whole audit trail, newest first",
    tag: "ops",
  },
  {
    method: "GET",
    path: "/api/ops/webhooks/",
    procedure: "ops.webhooks",
    status: 200,
    summary: "Platform webhook endpoints (never their secrets)",
    tag: "ops",
  },
  {
    method: "POST",
    path: "/api/ops/webhooks/",
    procedure: "ops.createWebhook",
    status: 201,
    body: ["url", "event_types"],
    summary: "Add a webhook endpoint (an http(s) URL the operator chose); its whsec_ signing secret is shown once",
    tag: "ops",
  },
  {
    method: "DELETE",
    path: "/api/ops/webhooks/{id}/",
    procedure: "ops.removeWebhook",
    status: 204,
    id: "uuid",
    summary: "Remove a webhook endpoint with its queue and delivery history",
    tag: "ops",
  },
  {
    method: "POST",
    path: "/api/ops/webhooks/{id}/test/",
    procedure: "ops.testWebhook",
    status: 200,
    id: "uuid",
    summary: "Send a webhook.tested event to the endpoint now and answer with the delivery and its attempt",
    tag: "ops",
  },
  {
    method: "GET",
    path: "/api/ops/webhooks/{id}/deliveries/",
    procedure: "ops.webhookDeliveries",
    status: 200,
    id: "uuid",
    query: ["status", "limit"],
    summary: "A webhook endpoint's deliveries, newest first, each with every attempt",
    tag: "ops",
  },
];
