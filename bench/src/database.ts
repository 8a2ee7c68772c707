import { randomBytes } from "node:crypto";
import pg from "pg";

/** A database of the bench's own on the local PostgreSQL, dropped at the end. */
export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export async function createDatabase(serverUrl: string): Promise<BenchDatabase> {
  const name = `tenantry_bench_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  await withClient(serverUrl, (client) => client.query(`create database "${name}"`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await withClient(serverUrl, (client) => client.query(`drop database if exists "${name}" with (force)`));
    },
  };
}

export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Grows a tenant (made through the API, with its admin) to `assignments` role
 * assignments straight in SQL: users with all three roles each, and the
 * remainder as single roles. Seeding 100,000 rows through the API would take
 * far longer than the measurement; the rows are the same shape as the API's.
 */
export async function growTenantBySql(
  url: string,
  tenantId: string,
  assignments: number,
): Promise<{ users: number; assignments: number }> {
  return withClient(url, async (client) => {
    const have = Number(
      (await client.query("select count(*) as n from role_assignments where tenant_id = $1", [tenantId])).rows[0].n,
    );
    const needed = assignments - have;
    if (needed <= 0) return { users: 0, assignments: have };
    const users = Math.ceil(needed / 3);
    const leftover = users * 3 - needed;
    await client.query("begin");
    // Time-ordered created_at, as the API would write them, a millisecond apart.
    await client.query(
      `insert into users (id, tenant_id, email, password_hash, first_name, last_name, date_joined)
       select gen_random_uuid(), $1, 'scale-' || g || '@bench.test', 'not-a-login', 'Scale', 'User ' || g,
              now() - interval '1 day' + g * interval '1 millisecond'
         from generate_series(1, $2::int) g`,
      [tenantId, users],
    );
    await client.query(
      `insert into role_assignments (id, tenant_id, user_id, role, granted_by_id, created_at)
       select gen_random_uuid(), u.tenant_id, u.id, r.role, null, u.date_joined + r.n * interval '1 microsecond'
         from users u
         cross join (values ('ADMIN', 0), ('ANALYST', 1), ('VIEWER', 2)) as r(role, n)
        where u.tenant_id = $1 and u.email like 'scale-%@bench.test'`,
      [tenantId],
    );
    // Trim to the exact count: drop the last users' VIEWER rows.
    if (leftover > 0) {
      await client.query(
        `delete from role_assignments where id in (
           select ra.id from role_assignments ra join users u on u.id = ra.user_id
            where ra.tenant_id = $1 and ra.role = 'VIEWER' and u.email like 'scale-%@bench.test'
            order by u.date_joined desc limit $2)`,
        [tenantId, leftover],
      );
    }
    await client.query("commit");
    await client.query("analyze users");
    await client.query("analyze role_assignments");
    const total = Number(
      (await client.query("select count(*) as n from role_assignments where tenant_id = $1", [tenantId])).rows[0].n,
    );
    return { users, assignments: total };
  });
}
