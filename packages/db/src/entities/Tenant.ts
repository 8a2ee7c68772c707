import { defineEntity, type InferEntity } from "@mikro-orm/core";
import { newId } from "../ids.js";

export const Tenant = defineEntity({
  name: "Tenant",
  tableName: "tenants",
  properties: (p) => ({
    id: p
      .uuid()
      .primary()
      .onCreate(() => newId()),
    name: p.text(),
    slug: p.text().unique("tenants_slug_key"),
    createdAt: p
      .datetime()
      .columnType("timestamptz")
      .onCreate(() => new Date()),
  }),
});
export type Tenant = InferEntity<typeof Tenant>;
