export { AUDIT_ACTOR_TYPES, type AuditActorType, AuditEvent } from "./AuditEvent.js";
export { Invitation } from "./Invitation.js";
export { PasswordReset } from "./PasswordReset.js";
export { RoleAssignment } from "./RoleAssignment.js";
export * from "./roles.js";
export { Session } from "./Session.js";
export { Tenant } from "./Tenant.js";
export { User } from "./User.js";

import { AuditEvent } from "./AuditEvent.js";
import { Invitation } from "./Invitation.js";
import { PasswordReset } from "./PasswordReset.js";
import { RoleAssignment } from "./RoleAssignment.js";
import { Session } from "./Session.js";
import { Tenant } from "./Tenant.js";
import { User } from "./User.js";

export const entities = [Tenant, User, RoleAssignment, Invitation, Session, AuditEvent, PasswordReset];
