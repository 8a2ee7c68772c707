import { defineEntity, type InferEntity } from "@mikro-orm/core";
import { User } from "./User.js";

/**
 * A login session in the Lucia design: the token handed out is `<id>.<secret>`;
 * the row keeps the id and only the SHA-256 of the secret.
 */
export const Session = defineEntity({
  name: "Session",
  tableName: "sessions",
  properties: (p) => ({
    id: p.text().primary(),
    secretHash: p.text().unique("sessions_secret_hash_key").hidden(),
    user: p.manyToOne(User).mapToPk().deleteRule("cascade").fieldName("user_id"),
    createdAt: p
      .datetime()
      .columnType("timestamptz")
      .onCreate(() => new Date()),
    expiresAt: p.datetime().columnType("timestamptz"),
    /** Where the session began (shown to its owner). */
    ip: p.text().nullable(),
    userAgent: p.text().nullable(),
  }),
});
export type Session = InferEntity<typeof Session>;
