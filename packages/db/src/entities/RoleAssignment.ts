import { defineEntity, type InferEntity } from "@mikro-orm/core";
import { newId } from "../ids.js";
import { ROLES } from "./roles.js";
import { Tenant } from "./Tenant.js";
import { User } from "./User.js";

/** One role held by one user in the user's tenant. */
export const RoleAssignment = defineEntity({
  name: "RoleAssignment",
  tableName: "role_assignments",
  properties: (p) => ({
    id: p
      .uuid()
      .primary()
      .onCreate(() => newId()),
    tenant: p.manyToOne(Tenant).mapToPk().deleteRule("cascade").fieldName("tenant_id"),
    user: p.manyToOne(User).mapToPk().deleteRule("cascade").fieldName("user_id"),
    role: p.enum([...ROLES]),
    grantedBy: p.manyToOne(User).mapToPk().nullable().deleteRule("set null").fieldName("granted_by_id"),
    createdAt: p
      .datetime()
      .columnType("timestamptz")
      .onCreate(() => new Date()),
  }),
});
export type RoleAssignment = InferEntity<typeof RoleAssignment>;
