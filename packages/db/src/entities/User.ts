import { defineEntity, type InferEntity } from "@mikro-orm/core";
import { newId } from "../ids.js";
import { Tenant } from "./Tenant.js";

/** A person who can log in: a member of one tenant, or a superuser of none. */
export const User = defineEntity({
  name: "User",
  tableName: "users",
  properties: (p) => ({
    id: p
      .uuid()
      .primary()
      .onCreate(() => newId()),
    tenant: p.manyToOne(Tenant).mapToPk().nullable().deleteRule("cascade").fieldName("tenant_id"),
    email: p.text(),
    passwordHash: p.text().hidden().lazy(),
    firstName: p.text().default(""),
    lastName: p.text().default(""),
    isSuperuser: p.boolean().default(false),
    /** Inactive users cannot log in, have no sessions and do not count as ADMINs. */
    isActive: p.boolean().default(true),
    dateJoined: p
      .datetime()
      .columnType("timestamptz")
      .onCreate(() => new Date()),
  }),
});
export type User = InferEntity<typeof User>;
