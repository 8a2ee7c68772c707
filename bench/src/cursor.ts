import type { Api } from "./api.js";
import { withClient } from "./database.js";
import type { SeededTenant } from "./seed.js";
import { round, type Spread, spread } from "./stats.js";

/**
 * Issue #16's growth check: a tenant with a million audit events, its first
 * page and its last page by cursor (GET /api/audit-events/?cursor=), with the
 * last page by offset beside them for contrast. The events are inserted by
 * SQL (generate_series): a million through the API would take hours.
 */
export interface CursorResults {
  /** The tenant's audit events, exactly (so the last page is a full one). */
  events: number;
  /** How long the SQL inserts (with their indexes and triggers) and ANALYZE took. */
  seedSeconds: number;
  pageSize: number;
  quick: boolean;
  firstByCursor: Spread;
  lastByCursor: Spread;
  lastByOffset: Spread;
  /** `?limit=&offset=0`: its `count` is a count of the whole trail. */
  firstByOffset: Spread;
}

export const CURSOR_PATH = "/api/audit-events/";
/** The server's page size for `?cursor=` without `limit`. */
const PAGE_SIZE = 100;
const WARMUP = 5;
const OFFSET_SAMPLES = 10;

interface Page {
  next: string | null;
  previous: string | null;
  results: { id: string; tenant: string }[];
}

/**
 * Grows the tenant's audit trail to `events` by SQL: the same columns the
 * product writes, instants half a minute apart going back from a day ago
 * (two events share each instant, so the order rests on the id too), the
 * usual actions. Returns the seconds it took.
 */
async function growAuditTrail(url: string, tenant: SeededTenant, events: number): Promise<number> {
  const started = performance.now();
  await withClient(url, async (client) => {
    const have = Number(
      (await client.query("select count(*) as n from audit_events where tenant_id = $1", [tenant.id])).rows[0].n,
    );
    await client.query(
      `insert into audit_events (id, occurred_at, actor_type, actor_id, actor_email, tenant_id, action,
                                 target_type, target_id, details, ip, user_agent)
       select gen_random_uuid(), now() - interval '1 day' - (g / 2) * interval '31 seconds', 'user', $2::uuid, $3, $1,
              (array['auth.login_succeeded', 'invitation.created', 'role.granted', 'auth.logout'])[1 + g % 4],
              'user', $2::text, '{"via": "bench"}'::jsonb, '127.0.0.1', 'tenantry-bench'
         from generate_series(1, $4::int) g`,
      [tenant.id, tenant.adminUserId, tenant.adminEmail, events - have],
    );
    await client.query("analyze audit_events");
  });
  return (performance.now() - started) / 1000;
}

/**
 * The cursor of the last page as the server makes it: the `next` of the page
 * before, which names that page's last event, base64url of `n|<instant to the
 * microsecond>|<id>` (apps/server/src/domain/paging.ts; not imported, so that
 * the bench process loads none of the server). Found here by SQL once,
 * instead of walking ten thousand pages to it; the server refuses a cursor it
 * would not have made, and the bench checks the page is the true last page.
 */
async function lastPageCursor(url: string, tenantId: string, events: number, pageSize: number): Promise<string> {
  const before = events - pageSize - 1;
  const row = await withClient(url, async (client) => {
    const { rows } = await client.query<{ at: string; id: string }>(
      `select to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at, id
         from audit_events where tenant_id = $1 order by occurred_at desc, id desc offset $2 limit 1`,
      [tenantId, before],
    );
    return rows[0];
  });
  if (!row) throw new Error(`the tenant has no event at position ${before}`);
  return Buffer.from(`n|${row.at}|${row.id}`, "latin1").toString("base64url");
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

export async function measureCursorPaging(options: {
  api: Api;
  databaseUrl: string;
  tenant: SeededTenant;
  events: number;
  quick: boolean;
  /** Sequential samples of each cursor page; the offset pages get ten. */
  iterations: number;
  waitForQuiet: () => Promise<void>;
  say: (message: string) => void;
}): Promise<CursorResults> {
  const { api, tenant, events } = options;
  const token = tenant.token;
  options.say(`growing a tenant's audit trail to ${events.toLocaleString("en-US")} events by SQL...`);
  const seedSeconds = await growAuditTrail(options.databaseUrl, tenant, events);
  options.say(`... in ${round(seedSeconds, 1)} s`);

  const first = `${CURSOR_PATH}?cursor=`;
  const last = `${CURSOR_PATH}?cursor=${await lastPageCursor(options.databaseUrl, tenant.id, events, PAGE_SIZE)}`;
  const lastOffset = `${CURSOR_PATH}?limit=${PAGE_SIZE}&offset=${events - PAGE_SIZE}`;
  const firstOffset = `${CURSOR_PATH}?limit=${PAGE_SIZE}`;

  // Every page is what it claims to be before it is timed.
  const firstPage = await api.expect<Page>("GET", first, 200, { token });
  const lastPage = await api.expect<Page>("GET", last, 200, { token });
  const offsetPage = await api.expect<Page & { count: number }>("GET", lastOffset, 200, { token });
  if (firstPage.results.length !== PAGE_SIZE || firstPage.previous !== null || !firstPage.next) {
    throw new Error(`the first page by cursor is not a full first page: ${JSON.stringify(firstPage).slice(0, 300)}`);
  }
  if (lastPage.results.length !== PAGE_SIZE || lastPage.next !== null || !lastPage.previous) {
    throw new Error(`the last page by cursor is not a full last page: ${JSON.stringify(lastPage).slice(0, 300)}`);
  }
  if (offsetPage.count !== events) throw new Error(`the trail holds ${offsetPage.count} events, not ${events}`);
  const ids = (page: Page) => page.results.map((event) => event.id).join();
  if (ids(lastPage) !== ids(offsetPage)) throw new Error("the last page by cursor differs from the last by offset");
  if (lastPage.results.some((event) => event.tenant !== tenant.id)) throw new Error("another tenant's event");

  await options.waitForQuiet();
  const samples = {
    first: [] as number[],
    last: [] as number[],
    lastOffset: [] as number[],
    firstOffset: [] as number[],
  };
  // The cursor pages, interleaved so drift touches both alike, in alternating order.
  for (let i = 0; i < options.iterations + WARMUP; i++) {
    const pair = i % 2 ? ([first, "first", last, "last"] as const) : ([last, "last", first, "first"] as const);
    const a = await timed(() => api.expect("GET", pair[0], 200, { token }));
    const b = await timed(() => api.expect("GET", pair[2], 200, { token }));
    if (i < WARMUP) continue;
    samples[pair[1]].push(a);
    samples[pair[3]].push(b);
  }
  // Then, apart (each reads the whole trail: seconds at a million), a few of the offset pages.
  for (let i = 0; i < OFFSET_SAMPLES + 1; i++) {
    const c = await timed(() => api.expect("GET", lastOffset, 200, { token }));
    const d = await timed(() => api.expect("GET", firstOffset, 200, { token }));
    if (i === 0) continue;
    samples.lastOffset.push(c);
    samples.firstOffset.push(d);
  }
  const rounded = (values: number[]): Spread => {
    const { p50, p90, samples: n } = spread(values);
    return { p50: round(p50), p90: round(p90), samples: n };
  };
  return {
    events,
    seedSeconds: round(seedSeconds, 1),
    pageSize: PAGE_SIZE,
    quick: options.quick,
    firstByCursor: rounded(samples.first),
    lastByCursor: rounded(samples.last),
    lastByOffset: rounded(samples.lastOffset),
    firstByOffset: rounded(samples.firstOffset),
  };
}
