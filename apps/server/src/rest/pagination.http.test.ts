import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addMemberRest,
  type Json,
  RestClient,
  type RestTenant,
  signUpRest,
  statusOf,
  superuserRest,
} from "../test-support/rest.js";
import { startTestServer, type TestServer } from "../test-support/server.js";

const INVITATIONS = 7;
/** The seven, plus the three accepted by the members. */
const ALL_INVITATIONS = INVITATIONS + 3;
const BULK_TENANTS = 1001;

/** DRF's LimitOffsetPagination over REST: `?limit=&offset=` answers `{count, next, previous, results}`. */
describe("REST pagination", () => {
  let server: TestServer;
  let api: RestClient;
  let acme: RestTenant;
  let staffToken: string;
  beforeAll(async () => {
    server = await startTestServer({ env: { THROTTLE: "off" } });
    api = new RestClient(server.url);
    acme = await signUpRest(api);
    for (let i = 0; i < INVITATIONS; i++) {
      const reply = await api.post(
        "/api/users/invite/",
        { email: `invitee${i}@paging.example.com`, role: i % 2 ? "VIEWER" : null },
        { token: acme.adminToken },
      );
      expect(reply.status, statusOf(reply)).toBe(201);
    }
    // Three members with every role: ten role assignments in all.
    for (const name of ["ann", "bob", "cid"]) {
      const { user } = await addMemberRest(api, acme.adminToken, `${name}@paging.example.com`, "VIEWER");
      for (const role of ["ADMIN", "ANALYST"]) {
        const reply = await api.post("/api/user-roles/", { user: user.id, role }, { token: acme.adminToken });
        expect(reply.status, statusOf(reply)).toBe(201);
      }
    }
    // Many tenants at once, straight into the database: more than the page cap.
    await server.db.orm.em.getConnection().execute(
      `insert into tenants (id, name, slug, created_at)
         select gen_random_uuid(), 'Bulk ' || i, 'bulk-' || i, now() - (i || ' seconds')::interval
         from generate_series(1, ${BULK_TENANTS}) as i`,
    );
    staffToken = (await superuserRest(server, api)).token;
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** Follows `next` from `first` to the end; returns every page. */
  async function walk(first: string, token: string): Promise<Json[]> {
    const pages: Json[] = [];
    let url: string | null = first;
    while (url) {
      expect(url.startsWith(`${server.url}/api/`), `absolute link: ${url}`).toBe(true);
      const reply = await api.get(url.slice(server.url.length), { token });
      expect(reply.status, statusOf(reply)).toBe(200);
      pages.push(reply.body);
      url = reply.body.next;
      expect(pages.length).toBeLessThan(50);
    }
    return pages;
  }

  it("answers the envelope with absolute links, and walking `next` covers the list exactly once", async () => {
    const cases: [string, number][] = [
      ["/api/users/invitations/", 3],
      ["/api/user-roles/", 4],
      ["/api/users/", 2],
    ];
    for (const [path, limit] of cases) {
      const plain = await api.get(path, { token: acme.adminToken });
      expect(Array.isArray(plain.body)).toBe(true);
      const ids = plain.body.map((item: Json) => item.id);
      expect(ids.length).toBeGreaterThan(limit);

      const pages = await walk(`${server.url}${path}?limit=${limit}&offset=0`, acme.adminToken);
      expect(pages.length).toBe(Math.ceil(ids.length / limit));
      for (const [index, page] of pages.entries()) {
        expect(Object.keys(page).sort()).toEqual(["count", "next", "previous", "results"]);
        expect(page.count).toBe(ids.length);
        expect(page.results.length).toBe(Math.min(limit, ids.length - index * limit));
        if (index === 0) expect(page.previous).toBeNull();
        else expect(page.previous).toEqual(expect.stringMatching(new RegExp(`^${server.url}${path}\\?`)));
      }
      expect(pages.at(-1).next).toBeNull();
      // Same items, same order, each once.
      expect(pages.flatMap((page) => page.results.map((item: Json) => item.id))).toEqual(ids);
    }
  });

  it("links like DRF: next = offset+limit, previous drops offset when offset-limit <= 0", async () => {
    const path = "/api/users/invitations/";
    const first = await api.get(`${path}?limit=3`, { token: acme.adminToken });
    expect(first.body.previous).toBeNull();
    const next = new URL(first.body.next);
    expect(next.origin).toBe(server.url);
    expect(next.pathname).toBe(path);
    expect(Object.fromEntries(next.searchParams)).toEqual({ limit: "3", offset: "3" });

    const second = await api.get(`${path}?limit=3&offset=3`, { token: acme.adminToken });
    const previous = new URL(second.body.previous);
    expect(previous.pathname).toBe(path);
    expect(Object.fromEntries(previous.searchParams)).toEqual({ limit: "3" });
    expect(Object.fromEntries(new URL(second.body.next).searchParams)).toEqual({ limit: "3", offset: "6" });

    // offset - limit <= 0 but offset > 0: previous is the first page, without offset.
    const shifted = await api.get(`${path}?limit=3&offset=2`, { token: acme.adminToken });
    expect(Object.fromEntries(new URL(shifted.body.previous).searchParams)).toEqual({ limit: "3" });
    const third = await api.get(`${path}?limit=3&offset=6`, { token: acme.adminToken });
    expect(Object.fromEntries(new URL(third.body.previous).searchParams)).toEqual({ limit: "3", offset: "3" });
    expect(Object.fromEntries(new URL(third.body.next).searchParams)).toEqual({ limit: "3", offset: "9" });
    const last = await api.get(`${path}?limit=3&offset=9`, { token: acme.adminToken });
    expect(last.body.results).toHaveLength(ALL_INVITATIONS - 9);
    expect(last.body.next).toBeNull();

    // Past the end: empty results, count still the total.
    const beyond = await api.get(`${path}?limit=3&offset=100`, { token: acme.adminToken });
    expect(beyond.status, statusOf(beyond)).toBe(200);
    expect(beyond.body).toMatchObject({ count: ALL_INVITATIONS, next: null, results: [] });
    expect(Object.fromEntries(new URL(beyond.body.previous).searchParams)).toEqual({ limit: "3", offset: "97" });
  });

  it("keeps filters in the links", async () => {
    const pending = await api.get("/api/users/invitations/?status=pending", { token: acme.adminToken });
    const pages = await walk(`${server.url}/api/users/invitations/?status=pending&limit=2`, acme.adminToken);
    expect(pending.body).toHaveLength(INVITATIONS);
    expect(pages.map((page) => page.results.length)).toEqual([2, 2, 2, 1]);
    expect(pages.flatMap((page) => page.results.map((i: Json) => i.id))).toEqual(pending.body.map((i: Json) => i.id));
    for (const page of pages) {
      for (const link of [page.next, page.previous].filter(Boolean)) {
        expect(new URL(link).searchParams.get("status"), link).toBe("pending");
      }
      expect(page.results.every((i: Json) => i.status === "pending")).toBe(true);
    }

    const admins = await api.get("/api/user-roles/?role=ADMIN", { token: acme.adminToken });
    expect(admins.body.length).toBe(4);
    const adminPages = await walk(`${server.url}/api/user-roles/?role=ADMIN&limit=3`, acme.adminToken);
    expect(adminPages).toHaveLength(2);
    expect(new URL(adminPages[0].next).searchParams.get("role")).toBe("ADMIN");
    expect(new URL(adminPages[1].previous).searchParams.get("role")).toBe("ADMIN");
    expect(adminPages.flatMap((page) => page.results.map((a: Json) => a.id))).toEqual(
      admins.body.map((a: Json) => a.id),
    );
  });

  it("caps limit at 1000 (in the results and in the links)", async () => {
    const all = await api.get("/api/tenants/", { token: staffToken });
    expect(all.body.length).toBe(BULK_TENANTS + 1);

    const capped = await api.get("/api/tenants/?limit=5000", { token: staffToken });
    expect(capped.status, statusOf(capped)).toBe(200);
    expect(capped.body.count).toBe(BULK_TENANTS + 1);
    expect(capped.body.results).toHaveLength(1000);
    expect(Object.fromEntries(new URL(capped.body.next).searchParams)).toEqual({ limit: "1000", offset: "1000" });

    const rest = await api.get(capped.body.next.slice(server.url.length), { token: staffToken });
    expect(rest.body.results).toHaveLength(BULK_TENANTS + 1 - 1000);
    expect(rest.body.next).toBeNull();
    expect(Object.fromEntries(new URL(rest.body.previous).searchParams)).toEqual({ limit: "1000" });
    expect([...capped.body.results, ...rest.body.results].map((t: Json) => t.id)).toEqual(
      all.body.map((t: Json) => t.id),
    );

    const far = await api.get("/api/tenants/?limit=99999&offset=1500", { token: staffToken });
    expect(Object.fromEntries(new URL(far.body.previous).searchParams)).toEqual({ limit: "1000", offset: "500" });
  });

  it("answers the plain array for an invalid limit, as DRF does", async () => {
    const plain = await api.get("/api/users/invitations/", { token: acme.adminToken });
    for (const limit of ["0", "-1", "abc", "", "1.5", "1e2", "%20"]) {
      const reply = await api.get(`/api/users/invitations/?limit=${limit}&offset=2`, { token: acme.adminToken });
      expect(reply.status, `limit=${limit}: ${statusOf(reply)}`).toBe(200);
      expect(Array.isArray(reply.body), `limit=${limit}`).toBe(true);
      expect(reply.body).toEqual(plain.body);
    }
    // An offset alone does not page either.
    const offsetOnly = await api.get("/api/users/invitations/?offset=2", { token: acme.adminToken });
    expect(offsetOnly.body).toEqual(plain.body);
    // An invalid offset counts as 0.
    const badOffset = await api.get("/api/users/invitations/?limit=2&offset=abc", { token: acme.adminToken });
    expect(badOffset.status, statusOf(badOffset)).toBe(200);
    expect(badOffset.body.previous).toBeNull();
    expect(badOffset.body.results.map((i: Json) => i.id)).toEqual(plain.body.slice(0, 2).map((i: Json) => i.id));
  });

  it("pages every list endpoint", async () => {
    for (const path of ["/api/tenants/", "/api/users/", "/api/users/invitations/", "/api/user-roles/"]) {
      const reply = await api.get(`${path}?limit=1`, { token: acme.adminToken });
      expect(reply.status, statusOf(reply)).toBe(200);
      expect(Object.keys(reply.body).sort()).toEqual(["count", "next", "previous", "results"]);
    }
  });

  /** Follows `next` links from `first`; returns every page, checking each link keeps the request but the cursor. */
  async function walkCursor(first: string, token: string): Promise<Json[]> {
    const pages: Json[] = [];
    const kept = (link: string) => {
      const params = new URL(link).searchParams;
      params.delete("cursor");
      return params.toString();
    };
    const asked = kept(first);
    let url: string | null = first;
    while (url) {
      const reply = await api.get(url.slice(server.url.length), { token });
      expect(reply.status, statusOf(reply)).toBe(200);
      expect(Object.keys(reply.body)).toEqual(["next", "previous", "results"]);
      pages.push(reply.body);
      for (const link of [reply.body.next, reply.body.previous].filter(Boolean)) {
        expect(link.startsWith(`${server.url}${new URL(first).pathname}?`), link).toBe(true);
        expect(new URL(link).searchParams.getAll("cursor"), link).toHaveLength(1);
        expect(kept(link), link).toBe(asked);
      }
      url = reply.body.next;
      expect(pages.length).toBeLessThan(100);
    }
    return pages;
  }

  it("pages by cursor as DRF's CursorPagination does: `?cursor=` answers {next, previous, results}", async () => {
    // More audit events than a default page, straight into the database, older than the API's.
    await server.db.orm.em.getConnection().execute(
      `insert into audit_events (id, occurred_at, actor_type, actor_id, actor_email, tenant_id, action, target_type, target_id)
         select gen_random_uuid(), now() - interval '1 day' + (i / 3) * interval '1 second', 'user', ?, ?, ?,
                'auth.login_succeeded', 'user', ?
         from generate_series(1, 150) as i`,
      [acme.adminId, acme.adminEmail, acme.tenant.id, acme.adminId],
    );
    const path = "/api/audit-events/";
    const plain = await api.get(path, { token: acme.adminToken });
    expect(plain.body.length).toBeGreaterThan(150);

    const first = await api.get(`${path}?cursor=`, { token: acme.adminToken });
    expect(first.status, statusOf(first)).toBe(200);
    expect(first.text.startsWith('{"next":"')).toBe(true);
    expect(Object.keys(first.body)).toEqual(["next", "previous", "results"]);
    expect(first.body.previous).toBeNull();
    // DRF's page size (the old backend set no PAGE_SIZE, so 100), the same objects as the plain list.
    expect(first.body.results).toEqual(plain.body.slice(0, 100));
    const next = new URL(first.body.next);
    expect(next.origin).toBe(server.url);
    expect(next.pathname).toBe(path);
    expect([...next.searchParams.keys()]).toEqual(["cursor"]);

    const pages = await walkCursor(`${server.url}${path}?cursor=`, acme.adminToken);
    expect(pages.flatMap((page) => page.results)).toEqual(plain.body);
    expect(pages.at(-1).next).toBeNull();
    const back = await api.get(pages[1].previous.slice(server.url.length), { token: acme.adminToken });
    expect(back.body.results).toEqual(pages[0].results);
    expect(back.body.previous).toBeNull();

    // Without `cursor`, the same list answers as before: the plain array, or the limit/offset envelope.
    const windowed = await api.get(`${path}?limit=3&offset=3`, { token: acme.adminToken });
    expect(Object.keys(windowed.body)).toEqual(["count", "next", "previous", "results"]);
    expect(windowed.body.count).toBe(plain.body.length);
    expect(windowed.body.results).toEqual(plain.body.slice(3, 6));
  });

  it("keeps filters and `limit` in the cursor links, replacing only the cursor", async () => {
    const cases: [string, string, number][] = [
      ["/api/users/invitations/", "status=pending&limit=2", INVITATIONS],
      ["/api/users/invitations/", "limit=4", ALL_INVITATIONS],
      ["/api/audit-events/", "action=invitation.created&limit=3", ALL_INVITATIONS],
      ["/api/audit-events/", `actor=${encodeURIComponent(acme.adminEmail)}&since=2000-01-01&limit=40`, 0],
    ];
    for (const [path, query, expected] of cases) {
      const filters = query.replace(/&?limit=\d+/, "");
      const plain = await api.get(`${path}?${filters}`, { token: acme.adminToken });
      if (expected) expect(plain.body.length, `${path}?${query}`).toBe(expected);
      const limit = Number(/limit=(\d+)/.exec(query)?.[1]);
      const pages = await walkCursor(`${server.url}${path}?${query}&cursor=`, acme.adminToken);
      expect(pages.length, query).toBe(Math.ceil(plain.body.length / limit));
      expect(
        pages.flatMap((page) => page.results.map((item: Json) => item.id)),
        query,
      ).toEqual(plain.body.map((item: Json) => item.id));
    }
    // An invalid limit is DRF's default size; a large one is capped at 1000.
    const audit = await api.get("/api/audit-events/", { token: acme.adminToken });
    for (const limit of ["abc", "0", "-1", "1.5", ""]) {
      const reply = await api.get(`/api/audit-events/?limit=${limit}&cursor=`, { token: acme.adminToken });
      expect(reply.body.results, `limit=${limit}`).toHaveLength(Math.min(100, audit.body.length));
    }
    // More events than the cap, in a tenant of no one's (the audit trail has no foreign keys).
    await server.db.orm.em.getConnection().execute(
      `insert into audit_events (id, occurred_at, actor_type, tenant_id, action)
         select gen_random_uuid(), now() - interval '2 days', 'system', gen_random_uuid(), 'tenant.created'
         from generate_series(1, 1001)`,
    );
    const everything = await api.get("/api/audit-events/", { token: staffToken });
    const staffAudit = await api.get("/api/audit-events/?limit=5000&cursor=", { token: staffToken });
    expect(staffAudit.body.results).toEqual(everything.body.slice(0, 1000));
    expect(new URL(staffAudit.body.next).searchParams.get("limit")).toBe("5000");
    const rest = await api.get(staffAudit.body.next.slice(server.url.length), { token: staffToken });
    expect(rest.body.results).toEqual(everything.body.slice(1000));
  });

  it("answers 404 `Invalid cursor` (DRF's status and words) for a cursor it did not make, never a 500", async () => {
    const good = new URL(
      (await api.get("/api/users/invitations/?cursor=&limit=1", { token: acme.adminToken })).body.next,
    ).searchParams.get("cursor") as string;
    const bad = [
      "garbage",
      "%00",
      `${good}%00`,
      "%FF",
      "%ED%A0%80",
      "%F0%9F%98%80",
      "a%20b",
      `${good}%3D`,
      good.slice(0, -2),
      "A".repeat(4000),
      Buffer.from("n|2026-12-01T10:00:00.000000Z|nope").toString("base64url"),
      Buffer.from(`p|2026-02-30T10:00:00.000000Z|${acme.adminId}`).toString("base64url"),
      Buffer.from(`p|0000-01-01T10:00:00.000000Z|${acme.adminId}`).toString("base64url"),
    ];
    for (const path of ["/api/users/invitations/", "/api/audit-events/"]) {
      for (const cursor of bad) {
        const reply = await api.get(`${path}?cursor=${cursor}`, { token: acme.adminToken });
        expect(reply.status, `${path} cursor=${cursor.slice(0, 40)}: ${statusOf(reply)}`).toBe(404);
        expect(reply.text).toBe('{"detail":"Invalid cursor"}');
      }
      const fine = await api.get(`${path}?cursor=${good}`, { token: acme.adminToken });
      expect(fine.status, statusOf(fine)).toBe(200);
    }
  });

  it("pages by cursor only for those who may read the list, each within their own tenant", async () => {
    const other = await signUpRest(api);
    const { token: viewer } = await addMemberRest(api, other.adminToken, "viewer@cursor.example.com", "VIEWER");
    for (const path of ["/api/users/invitations/?cursor=", "/api/audit-events/?cursor="]) {
      const refused = await api.get(path, { token: viewer });
      expect(refused.status, statusOf(refused)).toBe(403);
      const anonymous = await api.get(path);
      expect(anonymous.status, statusOf(anonymous)).toBe(401);
    }
    // A cursor from acme's list, used by another tenant's ADMIN (naming acme, too): their own rows only.
    const acmePage = await api.get("/api/audit-events/?cursor=&limit=1", { token: acme.adminToken });
    const theirs = await api.get(
      `/api/audit-events/?tenant=${acme.tenant.slug}&cursor=${new URL(acmePage.body.next).searchParams.get("cursor")}`,
      { token: other.adminToken },
    );
    expect(theirs.status, statusOf(theirs)).toBe(200);
    expect(theirs.body.results.every((event: Json) => event.tenant === other.tenant.id)).toBe(true);
    const all = await api.get("/api/audit-events/", { token: other.adminToken });
    const firstPage = await api.get("/api/audit-events/?cursor=", { token: other.adminToken });
    expect(firstPage.body.results).toEqual(all.body);
  });
});
