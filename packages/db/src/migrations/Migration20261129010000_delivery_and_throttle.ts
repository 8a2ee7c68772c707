import { Migration } from "@mikro-orm/migrations";

/**
 * Invitation email delivery as an outbox on the invitation row, and the
 * throttle counters shared by every server process.
 */
export class Migration20261129010000_delivery_and_throttle extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table invitations
        add column delivery_attempts integer not null default 0 check (delivery_attempts >= 0),
        add column delivery_next_attempt_at timestamptz,
        add column delivery_last_error text,
        -- the plain token, encrypted with the server key, kept only until delivery ends
        add column delivery_token_ciphertext text;`);
    this.addSql(
      "create index invitations_delivery_due_idx on invitations (delivery_next_attempt_at) where email_delivery = 'pending';",
    );
    this.addSql(`
      create table throttle_counters (
        key text primary key,
        window_start timestamptz not null,
        hits integer not null check (hits > 0)
      );`);
    this.addSql("create index throttle_counters_window_idx on throttle_counters (window_start);");
  }

  override async down(): Promise<void> {
    this.addSql("drop table if exists throttle_counters;");
    this.addSql("drop index if exists invitations_delivery_due_idx;");
    this.addSql(`
      alter table invitations
        drop column delivery_attempts,
        drop column delivery_next_attempt_at,
        drop column delivery_last_error,
        drop column delivery_token_ciphertext;`);
  }
}
