import { Migration } from "@mikro-orm/migrations";

/**
 * The audit trail: append-only, enforced by the database (no update, delete or
 * truncate gets through), and free of foreign keys so that events outlive the
 * rows they describe. Also when an invitation was revoked, for retention.
 */
export class Migration20261129020000_audit_and_purge extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table audit_events (
        id uuid primary key,
        occurred_at timestamptz not null default now(),
        actor_type text not null check (actor_type in ('user', 'anonymous', 'system', 'cli')),
        actor_id uuid,
        actor_email text,
        tenant_id uuid,
        action text not null check (action ~ '^[a-z_]+\\.[a-z_]+$'),
        target_type text,
        target_id text,
        details jsonb not null default '{}'::jsonb,
        ip text,
        user_agent text
      );`);
    this.addSql("create index audit_events_tenant_time_idx on audit_events (tenant_id, occurred_at, id);");
    this.addSql("create index audit_events_time_idx on audit_events (occurred_at, id);");
    this.addSql("create index audit_events_actor_idx on audit_events (actor_id, occurred_at);");
    this.addSql(`
      create function audit_events_are_append_only() returns trigger language plpgsql as $$
      begin
        raise exception 'audit events cannot be changed or deleted' using errcode = 'insufficient_privilege';
      end;
      $$;`);
    this.addSql(`
      create trigger audit_events_no_update_or_delete before update or delete on audit_events
        for each row execute function audit_events_are_append_only();`);
    this.addSql(`
      create trigger audit_events_no_truncate before truncate on audit_events
        for each statement execute function audit_events_are_append_only();`);

    this.addSql("alter table invitations add column revoked_at timestamptz;");
    this.addSql("update invitations set revoked_at = created_at where state = 'revoked';");
    this.addSql(
      "alter table invitations add constraint invitations_revoked_at_check check ((state = 'revoked') = (revoked_at is not null));",
    );
    // purge looks for old expired and revoked invitations
    this.addSql("create index invitations_expires_idx on invitations (expires_at) where state = 'pending';");
    this.addSql("create index invitations_revoked_idx on invitations (revoked_at) where state = 'revoked';");
  }

  override async down(): Promise<void> {
    this.addSql("drop index if exists invitations_revoked_idx;");
    this.addSql("drop index if exists invitations_expires_idx;");
    this.addSql("alter table invitations drop constraint if exists invitations_revoked_at_check;");
    this.addSql("alter table invitations drop column if exists revoked_at;");
    this.addSql("drop table if exists audit_events;");
    this.addSql("drop function if exists audit_events_are_append_only();");
  }
}
