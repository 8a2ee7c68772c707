import { defineEntity, type InferEntity } from "@mikro-orm/core";
import { newId } from "../ids.js";
import { EMAIL_DELIVERY_STATES } from "./roles.js";
import { Tenant } from "./Tenant.js";
import { User } from "./User.js";

/**
 * A password reset: a one-time token (only its SHA-256 is stored), live until
 * used, replaced by a newer request, or expired. Its email waits on the row,
 * as an invitation's does.
 */
export const PasswordReset = defineEntity({
  name: "PasswordReset",
  tableName: "password_resets",
  properties: (p) => ({
    id: p
      .uuid()
      .primary()
      .onCreate(() => newId()),
    user: p.manyToOne(User).mapToPk().deleteRule("cascade").fieldName("user_id"),
    tenant: p.manyToOne(Tenant).mapToPk().nullable().deleteRule("cascade").fieldName("tenant_id"),
    email: p.text(),
    tokenHash: p.text().unique("password_resets_token_hash_key").hidden(),
    createdAt: p.datetime().columnType("timestamptz"),
    expiresAt: p.datetime().columnType("timestamptz"),
    usedAt: p.datetime().columnType("timestamptz").nullable(),
    supersededAt: p.datetime().columnType("timestamptz").nullable(),
    emailDelivery: p.enum([...EMAIL_DELIVERY_STATES]).default("pending"),
    deliveryAttempts: p.integer().default(0),
    deliveryNextAttemptAt: p.datetime().columnType("timestamptz").nullable(),
    deliveryLastError: p.text().nullable(),
    deliveryTokenCiphertext: p.text().lazy(true).nullable().default(null),
  }),
});
export type PasswordReset = InferEntity<typeof PasswordReset>;
