/**
 * What must hold of the stored data whatever happened to the process or the
 * database: the reliability suites check these after fuzzing, faults and
 * crashes. Each query lists the rows that break one rule (none, when it holds).
 */
export type Query = (sql: string) => Promise<Record<string, unknown>[]>;

const RULES: Record<string, string> = {
  "every tenant has an ADMIN": `
    select t.slug from tenants t
    where not exists (select 1 from role_assignments r where r.tenant_id = t.id and r.role = 'ADMIN')`,
  "every accepted invitation has its user": `
    select i.id from invitations i
    where i.state = 'accepted'
      and not exists (select 1 from users u where u.tenant_id = i.tenant_id and lower(u.email) = lower(i.email))`,
  "no role assignment crosses tenants": `
    select r.id from role_assignments r join users u on u.id = r.user_id
    where u.tenant_id is distinct from r.tenant_id`,
  "a delivery that ended keeps no sealed token": `
    select id from invitations where email_delivery <> 'pending' and delivery_token_ciphertext is not null`,
  "the list counts match the lists": `
    select c.tenant_id, c.list from list_counts c
    where c.count <> case c.list
      when 'users' then (select count(*) from users u where u.tenant_id = c.tenant_id)
      when 'role_assignments' then (select count(*) from role_assignments r where r.tenant_id = c.tenant_id)
      else (select count(*) from invitations i where i.tenant_id = c.tenant_id) end`,
};

/** Every broken rule with the rows that break it; empty when all hold. */
export async function brokenInvariants(query: Query): Promise<string[]> {
  const problems: string[] = [];
  for (const [rule, sql] of Object.entries(RULES)) {
    const rows = await query(sql);
    if (rows.length > 0) problems.push(`${rule}: ${JSON.stringify(rows.slice(0, 5))}`);
  }
  return problems;
}

/**
 * A digest of every stored row, per tenant (`null`: rows of no tenant), for
 * telling whether a request changed anything. Left out: what a refused request
 * may legitimately write (failed-login audit events and their webhook
 * deliveries, throttle counters) and a
 * session's sliding expiry.
 */
export async function rowDigests(query: Query): Promise<Map<string, string>> {
  const rows = await query(`
    select scope, string_agg(part, ',' order by part) as digest from (
      select id::text as scope, 'tenants:' || md5(x::text) as part from tenants x
      union all select tenant_id::text, 'users:' || md5(x::text) from users x
      union all select tenant_id::text, 'roles:' || md5(x::text) from role_assignments x
      union all select tenant_id::text, 'invitations:' || md5(x::text) from invitations x
      union all select tenant_id::text, 'counts:' || md5(x::text) from list_counts x
      union all select tenant_id::text, 'audit:' || md5(x::text) from audit_events x where action <> 'auth.login_failed'
      union all select u.tenant_id::text, 'sessions:' || md5(s.id || s.user_id::text || s.secret_hash)
        from sessions s join users u on u.id = s.user_id
      union all select null, 'webhooks:' || md5(x::text) from webhook_endpoints x
      union all select tenant_id::text, 'deliveries:' || md5(x::text) from webhook_deliveries x where event_type <> 'auth.login_failed'
      union all select null, 'attempts:' || md5(x::text) from webhook_attempts x
    ) parts group by scope`);
  return new Map(rows.map((row) => [String(row.scope ?? "none"), String(row.digest)]));
}

/** The scopes whose rows differ between two digests. */
export function changedScopes(before: Map<string, string>, after: Map<string, string>): string[] {
  const scopes = new Set([...before.keys(), ...after.keys()]);
  return [...scopes].filter((scope) => before.get(scope) !== after.get(scope));
}
