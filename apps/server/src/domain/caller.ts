import type { Role } from "@tenantry/db";

/** A user as the domain sees it: never the password hash. */
export interface UserRecord {
  id: string;
  tenantId: string | null;
  email: string;
  firstName: string;
  lastName: string;
  isSuperuser: boolean;
  dateJoined: Date;
  roles: Role[];
}

/** Who is calling, resolved once per request from the session token. */
export type Caller =
  | { kind: "anonymous" }
  | { kind: "member"; sessionId: string; user: UserRecord & { tenantId: string } }
  | { kind: "superuser"; sessionId: string; user: UserRecord };

export type AuthenticatedCaller = Exclude<Caller, { kind: "anonymous" }>;

/**
 * The tenants a request may touch: one tenant, or every tenant (`null`, only
 * ever for a superuser who named none).
 */
export interface TenantScope {
  tenantId: string | null;
}
