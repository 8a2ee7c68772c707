import { defineEntity, type InferEntity } from "@mikro-orm/core";
import { newId } from "../ids.js";
import { EMAIL_DELIVERY_STATES, INVITATION_STATES, ROLES } from "./roles.js";
import { Tenant } from "./Tenant.js";
import { User } from "./User.js";

/**
 * An invitation into a tenant. Only the SHA-256 of its token is stored.
 * `state` is what was decided (pending, accepted, revoked); whether a pending
 * invitation has expired is read from `expiresAt` against the clock.
 */
export const Invitation = defineEntity({
  name: "Invitation",
  tableName: "invitations",
  properties: (p) => ({
    id: p
      .uuid()
      .primary()
      .onCreate(() => newId()),
    tenant: p.manyToOne(Tenant).mapToPk().deleteRule("cascade").fieldName("tenant_id"),
    email: p.text(),
    role: p.enum([...ROLES]).nullable(),
    tokenHash: p.text().unique("invitations_token_hash_key").hidden(),
    state: p.enum([...INVITATION_STATES]).default("pending"),
    invitedBy: p.manyToOne(User).mapToPk().nullable().deleteRule("set null").fieldName("invited_by_id"),
    createdAt: p
      .datetime()
      .columnType("timestamptz")
      .onCreate(() => new Date()),
    expiresAt: p.datetime().columnType("timestamptz"),
    acceptedAt: p.datetime().columnType("timestamptz").nullable(),
    revokedAt: p.datetime().columnType("timestamptz").nullable(),
    emailDelivery: p.enum([...EMAIL_DELIVERY_STATES]).default("pending"),
    deliveryAttempts: p.integer().default(0),
    deliveryNextAttemptAt: p.datetime().columnType("timestamptz").nullable(),
    deliveryLastError: p.text().nullable(),
    /** The plain token encrypted with the server key until delivery ends; never the plain token. */
    deliveryTokenCiphertext: p.text().lazy(true).nullable().default(null),
  }),
});
export type Invitation = InferEntity<typeof Invitation>;
