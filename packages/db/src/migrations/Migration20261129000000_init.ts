import { Migration } from "@mikro-orm/migrations";

/**
 * The core schema. Written by hand so that every invariant is the database's
 * own: case-insensitive uniqueness through expression indexes, one pending
 * invitation per address, assignments that cannot cross tenants, and delete
 * rules chosen per foreign key.
 */
export class Migration20261129000000_init extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table tenants (
        id uuid primary key,
        name text not null check (length(btrim(name)) between 1 and 200),
        slug text not null check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
        created_at timestamptz not null default now(),
        constraint tenants_slug_key unique (slug)
      );`);
    this.addSql("create unique index tenants_name_lower_key on tenants (lower(name));");

    this.addSql(`
      create table users (
        id uuid primary key,
        tenant_id uuid references tenants (id) on delete cascade,
        email text not null check (length(email) between 3 and 320),
        password_hash text not null,
        first_name text not null default '',
        last_name text not null default '',
        is_superuser boolean not null default false,
        date_joined timestamptz not null default now(),
        -- a superuser belongs to no tenant; everyone else belongs to exactly one
        constraint users_superuser_has_no_tenant check (is_superuser = (tenant_id is null)),
        -- target of the composite keys that keep assignments inside one tenant
        constraint users_id_tenant_key unique (id, tenant_id)
      );`);
    this.addSql(
      "create unique index users_tenant_email_key on users (tenant_id, lower(email)) where tenant_id is not null;",
    );
    this.addSql("create unique index users_superuser_email_key on users (lower(email)) where tenant_id is null;");
    // login without a tenant looks an address up across tenants
    this.addSql("create index users_email_idx on users (lower(email));");

    this.addSql(`
      create table role_assignments (
        id uuid primary key,
        tenant_id uuid not null references tenants (id) on delete cascade,
        user_id uuid not null,
        role text not null check (role in ('ADMIN', 'ANALYST', 'VIEWER')),
        granted_by_id uuid references users (id) on delete set null,
        created_at timestamptz not null default now(),
        constraint role_assignments_user_role_key unique (user_id, role),
        -- the assignment's tenant is always its user's tenant
        constraint role_assignments_user_tenant_fkey foreign key (user_id, tenant_id)
          references users (id, tenant_id) on delete cascade
      );`);
    this.addSql("create index role_assignments_tenant_idx on role_assignments (tenant_id, created_at, id);");

    this.addSql(`
      create table invitations (
        id uuid primary key,
        tenant_id uuid not null references tenants (id) on delete cascade,
        email text not null check (length(email) between 3 and 320),
        role text check (role in ('ADMIN', 'ANALYST', 'VIEWER')),
        token_hash text not null check (token_hash ~ '^[0-9a-f]{64}$'),
        state text not null default 'pending' check (state in ('pending', 'accepted', 'revoked')),
        invited_by_id uuid references users (id) on delete set null,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null,
        accepted_at timestamptz,
        email_delivery text not null default 'pending'
          check (email_delivery in ('pending', 'sent', 'failed')),
        constraint invitations_token_hash_key unique (token_hash),
        constraint invitations_accepted_at_check check ((state = 'accepted') = (accepted_at is not null))
      );`);
    this.addSql("create index invitations_tenant_email_state_idx on invitations (tenant_id, lower(email), state);");
    // re-inviting replaces the pending invitation; two at once cannot both stay pending
    this.addSql(
      "create unique index invitations_one_pending_key on invitations (tenant_id, lower(email)) where state = 'pending';",
    );
    this.addSql("create index invitations_tenant_created_idx on invitations (tenant_id, created_at, id);");

    this.addSql(`
      create table sessions (
        id text primary key check (length(id) between 16 and 64),
        secret_hash text not null check (secret_hash ~ '^[0-9a-f]{64}$'),
        user_id uuid not null references users (id) on delete cascade,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null,
        constraint sessions_secret_hash_key unique (secret_hash)
      );`);
    this.addSql("create index sessions_user_idx on sessions (user_id);");
    this.addSql("create index sessions_expires_idx on sessions (expires_at);");
  }

  override async down(): Promise<void> {
    this.addSql("drop table if exists sessions;");
    this.addSql("drop table if exists invitations;");
    this.addSql("drop table if exists role_assignments;");
    this.addSql("drop table if exists users;");
    this.addSql("drop table if exists tenants;");
  }
}
