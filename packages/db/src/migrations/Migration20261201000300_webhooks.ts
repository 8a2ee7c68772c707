import { Migration } from "@mikro-orm/migrations";

/**
 * Platform webhooks: endpoints, a durable delivery queue and every attempt.
 * An AFTER INSERT trigger on `audit_events` enqueues one delivery per enabled
 * endpoint whose filter matches, in the transaction that records the event:
 * whatever path wrote the event (ORM, `with … insert`, purge), the delivery
 * exists exactly when the change committed, and a rollback leaves neither.
 */
export class Migration20261201000300_webhooks extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table webhook_endpoints (
        id uuid primary key,
        url text not null check (url ~* '^https?://'),
        -- null: every event type
        event_types text[],
        enabled boolean not null default true,
        disabled_reason text,
        -- the whsec_ signing secret, sealed with the server key (it must be usable, so it is kept)
        secret_ciphertext text not null,
        created_at timestamptz not null,
        check (enabled or disabled_reason is not null)
      );`);
    this.addSql(`
      create table webhook_deliveries (
        id uuid primary key default gen_random_uuid(),
        -- insertion order within a sequence; deliveries of one sequence go out one at a time, oldest first
        seq bigint generated always as identity,
        endpoint_id uuid not null references webhook_endpoints (id) on delete cascade,
        -- the audit event (no foreign key, as audit events have none)
        event_id uuid not null,
        event_type text not null,
        tenant_id uuid,
        -- one sequence per endpoint and tenant (platform events: one more; a test: its own)
        sequence_key text not null,
        status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
        attempts integer not null default 0,
        next_attempt_at timestamptz not null,
        created_at timestamptz not null,
        delivered_at timestamptz,
        -- the body, frozen when first sent: every retry sends the same bytes
        payload text,
        last_error text,
        unique (endpoint_id, event_id),
        check ((status = 'delivered') = (delivered_at is not null))
      );`);
    this.addSql(
      "create index webhook_deliveries_pending_idx on webhook_deliveries (endpoint_id, sequence_key, seq) where status = 'pending';",
    );
    this.addSql("create index webhook_deliveries_endpoint_idx on webhook_deliveries (endpoint_id, seq);");
    this.addSql(`
      create table webhook_attempts (
        id bigint generated always as identity primary key,
        delivery_id uuid not null references webhook_deliveries (id) on delete cascade,
        attempt integer not null,
        attempted_at timestamptz not null,
        succeeded boolean not null,
        response_status integer,
        latency_ms integer not null,
        error text,
        unique (delivery_id, attempt)
      );`);
    // Management events (webhook.*) are not broadcast; a test goes to the endpoint it names, enabled or not.
    this.addSql(`
      create function webhook_enqueue() returns trigger language plpgsql as $$
      begin
        if new.action = 'webhook.tested' then
          insert into webhook_deliveries (endpoint_id, event_id, event_type, tenant_id, sequence_key, next_attempt_at, created_at)
          select e.id, new.id, new.action, new.tenant_id, 'test:' || new.id, new.occurred_at, new.occurred_at
          from webhook_endpoints e where e.id::text = new.target_id;
        elsif new.action not like 'webhook.%' then
          insert into webhook_deliveries (endpoint_id, event_id, event_type, tenant_id, sequence_key, next_attempt_at, created_at)
          select e.id, new.id, new.action, new.tenant_id, coalesce(new.tenant_id::text, 'platform'), new.occurred_at, new.occurred_at
          from webhook_endpoints e
          where e.enabled and (e.event_types is null or new.action = any (e.event_types))
          order by e.id;
        end if;
        return null;
      end;
      $$;`);
    this.addSql(`
      create trigger audit_events_enqueue_webhooks after insert on audit_events
        for each row execute function webhook_enqueue();`);
  }

  override async down(): Promise<void> {
    this.addSql("drop trigger if exists audit_events_enqueue_webhooks on audit_events;");
    this.addSql("drop function if exists webhook_enqueue();");
    this.addSql("drop table if exists webhook_attempts;");
    this.addSql("drop table if exists webhook_deliveries;");
    this.addSql("drop table if exists webhook_endpoints;");
  }
}
