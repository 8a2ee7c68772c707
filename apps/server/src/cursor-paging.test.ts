import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sqlOf } from "./domain/test-support/audit-trail.js";
import { failure } from "./test-support/errors.js";
import { addMember, type Caller, createHarness, type Harness, signUp, superuser } from "./test-support/harness.js";

/**
 * Issue #16: the two lists that grow without bound, audit events and
 * invitations, page by cursor (DRF's CursorPagination) through `audit.cursor`
 * and `invite.cursor`. The manual clock stands still, so every row made here
 * shares one instant: the order rests on the id alone (ties everywhere).
 */

interface CursorPage {
  next: string | null;
  previous: string | null;
  results: { id: string }[];
}
type Fetch = (cursor?: string) => Promise<CursorPage>;

const TIED = 250;
const ids = (page: CursorPage) => page.results.map((row) => row.id);

/** Follows `next` from the first page to the last; returns every page. */
async function forward(fetch: Fetch): Promise<CursorPage[]> {
  const pages = [await fetch()];
  for (let page = pages[0]; page?.next; ) {
    page = await fetch(page.next);
    pages.push(page);
    expect(pages.length).toBeLessThan(200);
  }
  return pages;
}

/** Follows `previous` from `page` to the first page; returns the pages met, in list order. */
async function backward(fetch: Fetch, page: CursorPage): Promise<CursorPage[]> {
  const pages: CursorPage[] = [];
  for (let at = page; at.previous; ) {
    at = await fetch(at.previous);
    pages.unshift(at);
    expect(pages.length).toBeLessThan(200);
  }
  return pages;
}

/** Each value once. */
function expectDistinct(values: string[]): void {
  expect(new Set(values).size, "no row twice").toBe(values.length);
}

describe("cursor paging: audit.cursor and invite.cursor", () => {
  let h: Harness;
  let sql: ReturnType<typeof sqlOf>;
  let a: Awaited<ReturnType<typeof signUp>>;
  let b: Awaited<ReturnType<typeof signUp>>;
  let viewer: Caller;
  let staff: Awaited<ReturnType<typeof superuser>>;
  /** The instant of tenant A's rows. */
  let tied: Date;

  beforeAll(async () => {
    h = await createHarness({ throttle: false });
    sql = sqlOf(h);
    tied = h.clock.now();
    a = await signUp(h);
    b = await signUp(h);
    viewer = (await addMember(h, a.admin, "viewer@a.example.com", "VIEWER")).caller;
    staff = await superuser(h);
    // 250 invitations in tenant A, and an event for each, all at one instant.
    for (let start = 0; start < TIED; start += 100) {
      const count = Math.min(100, TIED - start);
      const invitations = Array.from({ length: count }, (_, i) => ({
        email: `tie${start + i}@a.example.com`,
        role: null,
      }));
      expect((await a.admin.invite.bulk({ invitations })).created).toBe(count);
    }
    await b.admin.invite.bulk({
      invitations: Array.from({ length: 20 }, (_, i) => ({ email: `b${i}@b.example.com`, role: null })),
    });
    const instants = await sql<{ n: string }>(
      "select count(distinct occurred_at) as n from audit_events where tenant_id = ?",
      [a.tenant.id],
    );
    expect(Number(instants[0]?.n)).toBe(1);
  });
  afterAll(async () => {
    await h?.close();
  });

  const auditOf =
    (caller: Caller, limit: number, filter: Parameters<Caller["audit"]["cursor"]>[0] = {}): Fetch =>
    (cursor) =>
      caller.audit.cursor({ ...filter, cursor, limit });
  const invitationsOf =
    (caller: Caller, limit: number, filter: Parameters<Caller["invite"]["cursor"]>[0] = {}): Fetch =>
    (cursor) =>
      caller.invite.cursor({ ...filter, cursor, limit });

  it("walks forward and back over hundreds of tied rows: each exactly once, in the list's order, the same pages both ways", async () => {
    const lists: [string, Fetch, string[]][] = [
      ["audit", auditOf(a.admin, 7), (await a.admin.audit.list()).map((event) => event.id)],
      ["invitations", invitationsOf(a.admin, 9), (await a.admin.invite.list()).map((invitation) => invitation.id)],
    ];
    for (const [name, fetch, all] of lists) {
      expect(all.length, name).toBeGreaterThan(TIED);
      const pages = await forward(fetch);
      expect(pages.flatMap(ids), name).toEqual(all);
      expect(pages[0]?.previous, name).toBeNull();
      expect(pages.at(-1)?.next, name).toBeNull();
      expect(pages.slice(0, -1).every((page) => page.results.length === (name === "audit" ? 7 : 9))).toBe(true);

      // Back from the last page: the same pages, and the first one says there is nothing before it.
      const last = pages.at(-1) as CursorPage;
      const back = await backward(fetch, last);
      expect(back.map(ids), name).toEqual(pages.slice(0, -1).map(ids));
      expect(back[0]?.previous, name).toBeNull();
      // Previous from page 2 is page 1 exactly; its next is page 2 again.
      const second = pages[1] as CursorPage;
      const first = await fetch(second.previous as string);
      expect(ids(first), name).toEqual(ids(pages[0] as CursorPage));
      expect(ids(await fetch(first.next as string)), name).toEqual(ids(second));
    }
  });

  it("meets every row that was there exactly once while rows are added, at the head or tied in the middle", async () => {
    // Audit events, newest first, in tenant D of its own (so the others' lists keep their size).
    const d = await signUp(h);
    const t0 = h.clock.now();
    for (let i = 0; i < 40; i++) await d.admin.invite.create({ email: `d${i}@d.example.com`, role: null });
    const fetch = auditOf(d.admin, 10);
    const before = (await d.admin.audit.list()).map((event) => event.id);
    const page1 = await fetch();
    const page2 = await fetch(page1.next as string);

    // Newer events arrive at the head: back from page 2 is still page 1 exactly, and before it are the new ones.
    h.clock.advance(1000);
    const later = h.clock.now();
    for (let i = 0; i < 10; i++) await d.admin.invite.create({ email: `new${i}@d.example.com`, role: null });
    const newer = (await d.admin.audit.list()).map((event) => event.id).filter((id) => !before.includes(id));
    expect(newer.length).toBeGreaterThanOrEqual(10);
    const back = await fetch(page2.previous as string);
    expect(ids(back)).toEqual(ids(page1));
    expect(back.previous).not.toBeNull();
    const head = await backward(fetch, back);
    expect(head.flatMap(ids)).toEqual(newer);
    expect(head[0]?.previous).toBeNull();

    // Events tied with those already read (a transaction that took its instant earlier and committed later):
    // their ids land anywhere in the tie, and the rest of the walk still meets every earlier row exactly once.
    h.clock.set(t0);
    for (let i = 0; i < 10; i++) await d.admin.invite.create({ email: `tie${i}@d.example.com`, role: null });
    h.clock.set(later);
    const rest: CursorPage[] = [];
    for (let page = page2; page.next; ) {
      page = await fetch(page.next);
      rest.push(page);
    }
    const walked = [...ids(page1), ...ids(page2), ...rest.flatMap(ids)];
    expectDistinct(walked);
    expect(walked.filter((id) => before.includes(id))).toEqual(before);

    // Invitations, oldest first: added ones come at the end, each once.
    const invitations = invitationsOf(d.admin, 8);
    const listed = (await d.admin.invite.list()).map((invitation) => invitation.id);
    const first = await invitations();
    h.clock.advance(1000);
    const last = await d.admin.invite.create({ email: "last@d.example.com", role: null });
    const pages = await forward(async (cursor) => (cursor ? invitations(cursor) : first));
    const seen = pages.flatMap(ids);
    expectDistinct(seen);
    expect(seen).toEqual([...listed, last.id]);
  });

  it("combines with every filter, for a tenant's ADMIN and for staff", async () => {
    // Everything in tenant A so far happened at one instant; this revocation comes later.
    const since = new Date(tied.getTime() + 500).toISOString();
    h.clock.advance(1000);
    await a.admin.invite.revoke({ id: (await a.admin.invite.list({ status: "pending" }))[3]?.id as string });
    const cases: [string, Fetch, () => Promise<{ id: string }[]>][] = [
      [
        "action",
        auditOf(a.admin, 11, { action: "invitation.created" }),
        () => a.admin.audit.list({ action: "invitation.created" }),
      ],
      ["actor", auditOf(a.admin, 13, { actor: a.adminEmail }), () => a.admin.audit.list({ actor: a.adminEmail })],
      ["since", auditOf(a.admin, 17, { since }), () => a.admin.audit.list({ since })],
      ["until", auditOf(a.admin, 5, { until: since }), () => a.admin.audit.list({ until: since })],
      ["status", invitationsOf(a.admin, 12, { status: "pending" }), () => a.admin.invite.list({ status: "pending" })],
      ["revoked", invitationsOf(a.admin, 2, { status: "revoked" }), () => a.admin.invite.list({ status: "revoked" })],
      ["staff, one tenant", auditOf(staff.caller, 50, { tenant: b.tenant.slug }), () => b.admin.audit.list()],
      ["staff, every tenant", auditOf(staff.caller, 97), () => staff.caller.audit.list()],
      ["staff, invitations", invitationsOf(staff.caller, 61), () => staff.caller.invite.list()],
    ];
    for (const [name, fetch, list] of cases) {
      const expected = (await list()).map((row) => row.id);
      expect(expected.length, name).toBeGreaterThan(0);
      expect((await forward(fetch)).flatMap(ids), name).toEqual(expected);
    }
    // A member naming another tenant reads their own, as every read does.
    const named = await b.admin.audit.cursor({ tenant: a.tenant.slug, limit: 1000 });
    expect(ids(named)).toEqual((await b.admin.audit.list()).map((event) => event.id));
  });

  it("sizes pages at 100 by default and at most 1000, and refuses a limit below 1", async () => {
    expect((await a.admin.audit.cursor({})).results).toHaveLength(100);
    expect((await a.admin.invite.cursor({ cursor: "" })).results).toHaveLength(100);
    const all = await a.admin.invite.list();
    const capped = await a.admin.invite.cursor({ limit: 5000 });
    expect(capped.results).toHaveLength(Math.min(all.length, 1000));
    expect((await failure(a.admin.audit.cursor({ limit: 0 }))).message).toContain("greater than or equal to 1");
  });

  it("refuses a cursor it did not make with NOT_FOUND `Invalid cursor` (as DRF does), before the database", async () => {
    const good = (await a.admin.audit.cursor({ limit: 2 })).next as string;
    const text = Buffer.from(good, "base64url").toString("latin1");
    const [, at, id] = text.split("|") as [string, string, string];
    const encode = (value: string) => Buffer.from(value, "latin1").toString("base64url");
    // 67 bytes end in a group of two characters whose last four bits are padding: set one, and the bytes stay the same.
    const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const strayBits = (token: string) => {
      const last = ALPHABET.indexOf(token.at(-1) as string);
      expect(last % 16).toBe(0);
      const changed = `${token.slice(0, -1)}${ALPHABET[last + 1]}`;
      expect(Buffer.from(changed, "base64url").equals(Buffer.from(token, "base64url"))).toBe(true);
      return changed;
    };
    const bad = [
      "garbage!",
      "%%%",
      " ",
      "\u0000",
      `${good}\u0000`,
      "\ud800",
      "😀",
      `${good}=`,
      `${good}\n`,
      good.toUpperCase(),
      "A".repeat(100_000),
      encode("hello"),
      encode(`x|${at}|${id}`),
      encode(`n|${at}`),
      encode(`n|${at}|${id}|`),
      encode(`n|${at}|${id.toUpperCase()}`),
      encode(`n|${at.slice(0, 23)}Z|${id}`),
      encode(`n|${at.replace(/^\d{4}-\d{2}-\d{2}/, "2026-02-30")}|${id}`),
      encode(`n|${at.replace(/T\d{2}/, "T24")}|${id}`),
      encode(`n|${at.replace(/^\d{4}/, "0000")}|${id}`),
      encode(`n|99999-01-01T00:00:00.000000Z|${id}`),
      encode(`n|${at}|${"f".repeat(36)}`),
      encode(`n|${at}|${id}`.replace("|", "\u0000")),
      strayBits(encode(`n=|${at}|${id}`)),
    ];
    for (const cursor of bad) {
      for (const call of [a.admin.audit.cursor, a.admin.invite.cursor]) {
        const error = await failure(call({ cursor, limit: 3 }));
        expect(error.code, JSON.stringify(cursor.slice(0, 60))).toBe("NOT_FOUND");
        expect(error.message, JSON.stringify(cursor.slice(0, 60))).toBe("Invalid cursor");
      }
    }
    // Well-formed cursors work on either list, with either direction and inclusiveness.
    for (const marker of ["n", "p", "n=", "p="]) {
      await expect(a.admin.audit.cursor({ cursor: encode(`${marker}|${at}|${id}`) })).resolves.toBeDefined();
    }
    // A position taken from another tenant's list reads the caller's own list from there: nothing of B's.
    const fromB = (await b.admin.audit.cursor({ limit: 1 })).next as string;
    const page = await a.admin.audit.cursor({ cursor: fromB, limit: 1000 });
    expect(page.results.every((event) => (event as { tenantId: string }).tenantId === a.tenant.id)).toBe(true);
  });

  it("lets a tenant's ADMINs and staff page, and no one else", async () => {
    for (const call of [viewer.audit.cursor, viewer.invite.cursor]) {
      expect((await failure(call({}))).code).toBe("FORBIDDEN");
    }
    for (const call of [h.call().audit.cursor, h.call().invite.cursor]) {
      expect((await failure(call({}))).code).toBe("UNAUTHORIZED");
    }
    const own = await b.admin.invite.cursor({ limit: 1000 });
    expect(own.results.length).toBeGreaterThan(0);
    expect(own.results.every((invitation) => invitation.tenantId === b.tenant.id)).toBe(true);
  });

  it("finds the way back from a page emptied by deletions without skipping the row it came from", async () => {
    const c = await signUp(h);
    for (let i = 0; i < 6; i++) await c.admin.invite.create({ email: `c${i}@c.example.com`, role: null });
    const fetch = invitationsOf(c.admin, 3);
    const first = await fetch();
    const after = (await c.admin.invite.list()).slice(3).map((invitation) => invitation.id);
    await sql(`delete from invitations where id in (${after.map(() => "?").join(", ")})`, after);
    const empty = await fetch(first.next as string);
    expect(empty).toMatchObject({ next: null, results: [] });
    const back = await fetch(empty.previous as string);
    expect(ids(back)).toEqual(ids(first));
    expect(back.previous).toBeNull();
    // The same at the other end: the rows before a page deleted, going back is empty, and forward again is that page.
    const before = ids(first);
    h.clock.advance(1000);
    await c.admin.invite.create({ email: "c6@c.example.com", role: null });
    const onlyPage = await fetch();
    const second = await fetch(onlyPage.next as string);
    await sql(`delete from invitations where id in (${before.map(() => "?").join(", ")})`, before);
    const nothingBefore = await fetch(second.previous as string);
    expect(nothingBefore).toMatchObject({ previous: null, results: [] });
    expect(ids(await fetch(nothingBefore.next as string))).toEqual(ids(second));
  });
});
