import type { MigrationObject } from "@mikro-orm/core";

/**
 * Every migration, in order: its name (the file's and its class's) and how to
 * load it. Listed statically rather than globbed so that the bundled server,
 * tsx and vitest all load the same code. Their code (and MikroORM's migrator)
 * is loaded only when a migration is to run: a server starting on an
 * up-to-date database needs the names alone.
 */
export const migrationsList: { name: string; load: () => Promise<Record<string, unknown>> }[] = [
  { name: "Migration20261129000000_init", load: () => import("./Migration20261129000000_init.js") },
  {
    name: "Migration20261129010000_delivery_and_throttle",
    load: () => import("./Migration20261129010000_delivery_and_throttle.js"),
  },
  {
    name: "Migration20261129020000_audit_and_purge",
    load: () => import("./Migration20261129020000_audit_and_purge.js"),
  },
  { name: "Migration20261129030000_list_counts", load: () => import("./Migration20261129030000_list_counts.js") },
  {
    name: "Migration20261201000200_member_lifecycle",
    load: () => import("./Migration20261201000200_member_lifecycle.js"),
  },
  { name: "Migration20261201000300_webhooks", load: () => import("./Migration20261201000300_webhooks.js") },
  {
    name: "Migration20261202000100_invitations_created_order",
    load: () => import("./Migration20261202000100_invitations_created_order.js"),
  },
];

/** The migrations as MikroORM's migrator takes them, their code loaded. */
export function loadMigrations(): Promise<MigrationObject[]> {
  return Promise.all(
    migrationsList.map(async ({ name, load }) => {
      const migration = (await load())[name];
      if (typeof migration !== "function") throw new Error(`The migration ${name} exports no class ${name}.`);
      return { name, class: migration as MigrationObject["class"] };
    }),
  );
}
