import type { InvitationState, Role } from "@tenantry/db";
import type { UserRecord } from "./caller.js";

/** The objects the API returns (camelCase; the REST shim renames them). */
export interface TenantView {
  id: string;
  name: string;
  slug: string;
  createdAt: string;
}

export interface UserView {
  id: string;
  email: string;
  firstName: string;
  lastName: string;
  tenantId: string | null;
  roles: Role[];
  isSuperuser: boolean;
  isActive: boolean;
  dateJoined: string;
}

export type InvitationStatus = InvitationState | "expired";

export interface InvitationView {
  id: string;
  tenantId: string;
  email: string;
  role: Role | null;
  status: InvitationStatus;
  invitedById: string | null;
  createdAt: string;
  expiresAt: string;
  acceptedAt: string | null;
  emailDelivery: "pending" | "sent" | "failed";
}

export interface RoleAssignmentView {
  id: string;
  userId: string;
  role: Role;
  tenantId: string;
  grantedById: string | null;
  createdAt: string;
}

const ROLE_ORDER: Record<Role, number> = { ADMIN: 0, ANALYST: 1, VIEWER: 2 };

export function sortRoles(roles: Iterable<Role>): Role[] {
  return [...new Set(roles)].sort((a, b) => ROLE_ORDER[a] - ROLE_ORDER[b]);
}

export function userView(user: UserRecord): UserView {
  return {
    id: user.id,
    email: user.email,
    firstName: user.firstName,
    lastName: user.lastName,
    tenantId: user.tenantId,
    roles: sortRoles(user.roles),
    isSuperuser: user.isSuperuser,
    isActive: user.isActive,
    dateJoined: user.dateJoined,
  };
}
