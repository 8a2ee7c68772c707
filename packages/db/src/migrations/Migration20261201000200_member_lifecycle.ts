import { Migration } from "@mikro-orm/migrations";

/**
 * Member lifecycle: users can be deactivated (their sessions end, they cannot
 * log in, they no longer count as ADMINs); sessions remember where they began
 * (shown to their owner); password resets are one-time tokens stored as
 * SHA-256 with an email outbox on the row, as invitations have.
 */
export class Migration20261201000200_member_lifecycle extends Migration {
  override async up(): Promise<void> {
    this.addSql("alter table users add column is_active boolean not null default true;");
    // the last-active-ADMIN guard counts a tenant's ADMIN assignments joined to active users
    this.addSql("create index role_assignments_tenant_role_idx on role_assignments (tenant_id, role);");
    this.addSql(`
      alter table sessions
        add column ip text check (length(ip) <= 64),
        add column user_agent text check (length(user_agent) <= 512);`);
    this.addSql("create index sessions_user_created_idx on sessions (user_id, created_at desc);");
    this.addSql(`
      create table password_resets (
        id uuid primary key,
        user_id uuid not null references users (id) on delete cascade,
        tenant_id uuid references tenants (id) on delete cascade,
        email text not null,
        token_hash text not null check (token_hash ~ '^[0-9a-f]{64}$'),
        created_at timestamptz not null,
        expires_at timestamptz not null,
        -- a token is live while neither is set: used once, or replaced by a newer request
        used_at timestamptz,
        superseded_at timestamptz,
        email_delivery text not null default 'pending' check (email_delivery in ('pending', 'sent', 'failed')),
        delivery_attempts integer not null default 0 check (delivery_attempts >= 0),
        delivery_next_attempt_at timestamptz,
        delivery_last_error text,
        -- the plain token, encrypted with the server key, kept only until delivery ends
        delivery_token_ciphertext text,
        constraint password_resets_token_hash_key unique (token_hash)
      );`);
    this.addSql("create index password_resets_user_idx on password_resets (user_id);");
    this.addSql(
      "create index password_resets_delivery_due_idx on password_resets (delivery_next_attempt_at) where email_delivery = 'pending';",
    );
  }

  override async down(): Promise<void> {
    this.addSql("drop table if exists password_resets;");
    this.addSql("drop index if exists sessions_user_created_idx;");
    this.addSql("alter table sessions drop column ip, drop column user_agent;");
    this.addSql("drop index if exists role_assignments_tenant_role_idx;");
    this.addSql("alter table users drop column is_active;");
  }
}
