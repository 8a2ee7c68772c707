import { Migration } from "@mikro-orm/migrations";

/**
 * The invitations of every tenant in the list's order (oldest first, the id
 * breaking ties), for platform staff's list: a page by cursor (or by offset)
 * is read off this index instead of sorting every invitation. A tenant's own
 * list already has `invitations_tenant_created_idx`, and the audit trail
 * both of its orders (`audit_events_tenant_time_idx`, `audit_events_time_idx`).
 */
export class Migration20261202000100_invitations_created_order extends Migration {
  override async up(): Promise<void> {
    this.addSql("create index invitations_created_idx on invitations (created_at, id);");
  }

  override async down(): Promise<void> {
    this.addSql("drop index if exists invitations_created_idx;");
  }
}
