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
});
