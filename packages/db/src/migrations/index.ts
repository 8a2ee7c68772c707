import type { MigrationObject } from "@mikro-orm/core";
import { Migration20261129000000_init } from "./Migration20261129000000_init.js";
import { Migration20261129010000_delivery_and_throttle } from "./Migration20261129010000_delivery_and_throttle.js";
import { Migration20261129020000_audit_and_purge } from "./Migration20261129020000_audit_and_purge.js";
import { Migration20261129030000_list_counts } from "./Migration20261129030000_list_counts.js";
import { Migration20261201000200_member_lifecycle } from "./Migration20261201000200_member_lifecycle.js";
import { Migration20261201000300_webhooks } from "./Migration20261201000300_webhooks.js";
import { Migration20261216000100_invitations_created_order } from "./Migration20261216000100_invitations_created_order.js";

/**
 * Every migration, in order. Listed statically rather than globbed so that the
 * bundled server, tsx and vitest all load the same code.
 */
export const migrationsList: MigrationObject[] = [
  { name: "Migration20261129000000_init", class: Migration20261129000000_init },
  { name: "Migration20261129010000_delivery_and_throttle", class: Migration20261129010000_delivery_and_throttle },
  { name: "Migration20261129020000_audit_and_purge", class: Migration20261129020000_audit_and_purge },
  { name: "Migration20261129030000_list_counts", class: Migration20261129030000_list_counts },
  { name: "Migration20261201000200_member_lifecycle", class: Migration20261201000200_member_lifecycle },
  { name: "Migration20261201000300_webhooks", class: Migration20261201000300_webhooks },
  {
    name: "Migration20261216000100_invitations_created_order",
    class: Migration20261216000100_invitations_created_order,
  },
];
