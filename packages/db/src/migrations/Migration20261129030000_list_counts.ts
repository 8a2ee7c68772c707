import { Migration } from "@mikro-orm/migrations";

/**
 * Row counts per tenant for the three long lists, kept by triggers in the
 * same transaction as every insert and delete. A paged list reads its total
 * from here in constant time instead of counting a tenant's rows on every
 * page (DRF's `count`), which grows with the tenant.
 */
export class Migration20261129030000_list_counts extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table list_counts (
        tenant_id uuid not null references tenants (id) on delete cascade,
        list text not null check (list in ('users', 'role_assignments', 'invitations')),
        count bigint not null check (count >= 0),
        primary key (tenant_id, list)
      );`);
    this.addSql(`
      create function list_counts_follow() returns trigger language plpgsql as $$
      begin
        if tg_op = 'INSERT' then
          insert into list_counts (tenant_id, list, count) values (new.tenant_id, tg_table_name, 1)
            on conflict (tenant_id, list) do update set count = list_counts.count + 1;
        else
          update list_counts set count = count - 1 where tenant_id = old.tenant_id and list = tg_table_name;
        end if;
        return null;
      end;
      $$;`);
    for (const table of ["users", "role_assignments", "invitations"]) {
      this.addSql(`
        create trigger ${table}_counted_insert after insert on ${table}
          for each row when (new.tenant_id is not null) execute function list_counts_follow();`);
      this.addSql(`
        create trigger ${table}_counted_delete after delete on ${table}
          for each row when (old.tenant_id is not null) execute function list_counts_follow();`);
      this.addSql(`
        insert into list_counts (tenant_id, list, count)
          select tenant_id, '${table}', count(*) from ${table} where tenant_id is not null group by tenant_id;`);
    }
  }

  override async down(): Promise<void> {
    for (const table of ["users", "role_assignments", "invitations"]) {
      this.addSql(`drop trigger if exists ${table}_counted_insert on ${table};`);
      this.addSql(`drop trigger if exists ${table}_counted_delete on ${table};`);
    }
    this.addSql("drop function if exists list_counts_follow();");
    this.addSql("drop table if exists list_counts;");
  }
}
