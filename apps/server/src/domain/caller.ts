import type { Role } from "@tenantry/db";

/** A user as the domain sees it: never the password hash. */
export interface UserRecord {
  id: string;
  tenantId: string | null;
  email: string;
  firstName: string;
  lastName: string;
  isSuperuser: boolean;
  isActive: boolean;
  /** ISO 8601, UTC. */
  dateJoined: string;
  roles: Role[];
}

/**
 * Who is calling, resolved once per request from the session token; or the
 * `operator` at the command line (the CLI), on the server's host: platform
 * staff, acting as no user, recorded as the `cli` actor.
 */
export type Caller =
  | { kind: "anonymous" }
  | ({ kind: "member"; user: UserRecord & { tenantId: string } } & SessionFacts)
  | ({ kind: "superuser"; user: UserRecord } & SessionFacts)
  | { kind: "operator" };

interface SessionFacts {
  sessionId: string;
  /** Set when this request slid the session's expiry forward (so a cookie can follow). */
  renewedUntil?: Date;
}

export type AuthenticatedCaller = Exclude<Caller, { kind: "anonymous" }>;

/** A caller who logged in: a user with a session. */
export type SessionCaller = Extract<Caller, { kind: "member" | "superuser" }>;

/** Platform staff: a superuser, or the operator at the command line. */
export type StaffCaller = Extract<Caller, { kind: "superuser" | "operator" }>;

export function isStaff(caller: Caller): caller is StaffCaller {
  return caller.kind === "superuser" || caller.kind === "operator";
}

/** The user a change is recorded as made by (`invitedBy`, `grantedBy`); the command line is none. */
export function actingUserId(caller: AuthenticatedCaller): string | null {
  return caller.kind === "operator" ? null : caller.user.id;
}

/**
 * The tenants a request may touch: one tenant, or every tenant (`null`, only
 * ever for a superuser who named none).
 */
export interface TenantScope {
  tenantId: string | null;
}
