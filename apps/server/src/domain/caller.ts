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

/** Who is calling, resolved once per request from the session token. */
export type Caller =
  | { kind: "anonymous" }
  | ({ kind: "member"; user: UserRecord & { tenantId: string } } & SessionFacts)
  | ({ kind: "superuser"; user: UserRecord } & SessionFacts);

interface SessionFacts {
  sessionId: string;
  /** Set when this request slid the session's expiry forward (so a cookie can follow). */
  renewedUntil?: Date;
}

export type AuthenticatedCaller = Exclude<Caller, { kind: "anonymous" }>;

/**
 * The tenants a request may touch: one tenant, or every tenant (`null`, only
 * ever for a superuser who named none).
 */
export interface TenantScope {
  tenantId: string | null;
}
