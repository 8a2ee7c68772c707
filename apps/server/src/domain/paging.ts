import { type EntityManager, selectRows } from "@tenantry/db";
import { NotFound } from "./errors.js";

/** A window of a list, as DRF's limit/offset pagination asks for. */
export interface PageRequest {
  limit: number;
  offset: number;
}

export interface Page<T> {
  /** How many items the whole list has. */
  count: number;
  results: T[];
}

export const MAX_PAGE_SIZE = 1000;

/** SQL conditions joined with `and`, each with its own parameters. */
export class Conditions {
  readonly clauses: string[] = [];
  readonly params: unknown[] = [];

  add(clause: string, ...params: unknown[]): this {
    this.clauses.push(clause);
    this.params.push(...params);
    return this;
  }

  toSql(): string {
    return this.clauses.length ? `where ${this.clauses.join(" and ")}` : "";
  }
}

/** The lists whose per-tenant totals the database keeps (see the list_counts migration). */
export type CountedList = "users" | "role_assignments" | "invitations";

/**
 * Runs `select <columns> from … where … order by …` once: unpaged it returns
 * every row; paged it adds the window and the total in the same statement.
 * The total of a whole tenant's list (`counted`) is read from the counts the
 * database keeps, so a page costs the same in a tenant of a hundred rows as
 * in one of a hundred thousand; a filtered list is counted with a window
 * function. Only past the end, where no row carries the total, is it asked
 * for on its own.
 */
export async function pagedQuery<Row>(
  em: EntityManager,
  query: {
    columns: string;
    /** Values for placeholders in `columns`, which come before those of `where`. */
    columnParams?: unknown[];
    from: string;
    where: Conditions;
    orderBy: string;
    /** Set when `where` selects exactly one tenant's whole list. */
    counted?: { list: CountedList; tenantId: string };
  },
  page: PageRequest | undefined,
): Promise<Page<Row>> {
  const where = query.where.toSql();
  const params = [...(query.columnParams ?? []), ...query.where.params];
  if (!page) {
    const rows = await selectRows<Row>(
      em,
      `select ${query.columns} from ${query.from} ${where} order by ${query.orderBy}`,
      params,
    );
    return { count: rows.length, results: rows };
  }
  const kept = "coalesce((select count from list_counts where tenant_id = ? and list = ?), 0)";
  const counted = query.counted;
  const rows = await selectRows<Row & { total_count: string | number }>(
    em,
    `select ${query.columns}, ${counted ? kept : "count(*) over ()"} as total_count from ${query.from} ${where}
     order by ${query.orderBy} limit ? offset ?`,
    [
      ...(query.columnParams ?? []),
      ...(counted ? [counted.tenantId, counted.list] : []),
      ...query.where.params,
      page.limit,
      page.offset,
    ],
  );
  let count = rows[0] ? Number(rows[0].total_count) : 0;
  if (rows.length === 0 && page.offset > 0) {
    const total = await selectRows<{ count: string }>(
      em,
      counted ? `select ${kept} as count` : `select count(*) as count from ${query.from} ${where}`,
      counted ? [counted.tenantId, counted.list] : query.where.params,
    );
    count = Number(total[0]?.count ?? 0);
  }
  return { count, results: rows.map(({ total_count: _total, ...row }) => row as Row) };
}

/**
 * A window of a list by cursor, as DRF's CursorPagination asks for: the
 * position comes from the `next` or `previous` of a page, never a count of
 * rows to skip, so the last page costs what the first does.
 */
export interface CursorRequest {
  /** A page's `next` or `previous`; absent or empty: the first page. */
  cursor?: string;
  limit: number;
}

/** DRF's CursorPagination envelope: no total (counting is what makes a deep page slow), links both ways. */
export interface CursorPage<T> {
  /** The cursor of the page after this one; null on the last page. */
  next: string | null;
  /** The cursor of the page before this one; null on the first page. */
  previous: string | null;
  results: T[];
}

/** Items per cursor page when the caller does not say (DRF's PAGE_SIZE; the old backend set none). */
export const DEFAULT_CURSOR_PAGE_SIZE = 100;

/** DRF's words for a cursor that does not decode, in every transport. */
export const INVALID_CURSOR = "Invalid cursor";

/** Where a cursor page starts: after (`next`) or before (`previous`) a row, in the list's order. */
interface Cursor {
  direction: "next" | "previous";
  /** The row itself too: only where a page came back empty and the way back must not skip it. */
  inclusive: boolean;
  /** The row's ordering timestamp, UTC with all six digits of its microseconds, as the database holds it. */
  at: string;
  id: string;
}

const MAX_CURSOR_LENGTH = 200;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const CURSOR_TEXT =
  /^([np])(=?)\|(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)\|([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** Opaque to callers and safe in a URL: base64url of `n|2026-12-01T10:00:00.123456Z|<uuid>` (`n=|…` inclusive). */
export function encodeCursor(cursor: Cursor): string {
  const text = `${cursor.direction[0]}${cursor.inclusive ? "=" : ""}|${cursor.at}|${cursor.id}`;
  return Buffer.from(text, "latin1").toString("base64url");
}

/**
 * The cursor a token stands for; anything else, however it came to be
 * (garbage, another encoding, a changed byte, an instant that does not
 * exist), is `Invalid cursor` before it reaches the database.
 */
export function decodeCursor(token: string): Cursor {
  if (token.length > MAX_CURSOR_LENGTH || !BASE64URL.test(token)) throw new NotFound(INVALID_CURSOR);
  const bytes = Buffer.from(token, "base64url");
  // One spelling per cursor: no padding, no stray bits.
  if (bytes.toString("base64url") !== token) throw new NotFound(INVALID_CURSOR);
  const match = CURSOR_TEXT.exec(bytes.toString("latin1"));
  const at = match?.[3];
  if (!match || !at || !isInstant(at)) throw new NotFound(INVALID_CURSOR);
  return { direction: match[1] === "n" ? "next" : "previous", inclusive: match[2] === "=", at, id: match[4] as string };
}

/** Year 0 and impossible dates (February 30, 24:00) parse in JavaScript, not in PostgreSQL. */
function isInstant(at: string): boolean {
  const milliseconds = `${at.slice(0, 23)}Z`;
  const time = Date.parse(milliseconds);
  return !at.startsWith("0000") && Number.isFinite(time) && new Date(time).toISOString() === milliseconds;
}

/** A timestamp column as text with its microseconds, so a cursor names a row's position exactly. */
function microsecondText(column: string): string {
  return `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/**
 * One page of a list ordered by a timestamp then the id (a total order, so
 * equal timestamps are no problem), found from the cursor's row by the
 * index on that order: `where (at, id) < (?, ?) order by at desc, id desc
 * limit n + 1`. Rows added or removed elsewhere in the list never shift a
 * page, so walking `next` (or `previous`) meets every other row exactly
 * once. The extra row says whether there is a page beyond.
 */
export async function cursorQuery<Row extends { id: string }>(
  em: EntityManager,
  query: {
    columns: string;
    /** Values for placeholders in `columns`, which come before those of `where`. */
    columnParams?: unknown[];
    from: string;
    where: Conditions;
    /** The list's order: this timestamp column, then this id column, both the same way. */
    order: { at: string; id: string; descending: boolean };
  },
  request: CursorRequest,
): Promise<CursorPage<Row>> {
  const cursor = request.cursor ? decodeCursor(request.cursor) : undefined;
  const backwards = cursor?.direction === "previous";
  // A previous page is read against the list's order, from its cursor back, then turned around.
  const descending = query.order.descending !== backwards;
  const { at, id } = query.order;
  const where = new Conditions();
  where.clauses.push(...query.where.clauses);
  where.params.push(...query.where.params);
  if (cursor) {
    const comparison = `${descending ? "<" : ">"}${cursor.inclusive ? "=" : ""}`;
    where.add(`(${at}, ${id}) ${comparison} (?::timestamptz, ?::uuid)`, cursor.at, cursor.id);
  }
  const direction = descending ? "desc" : "asc";
  const rows = await selectRows<Row & { cursor_at: string }>(
    em,
    `select ${query.columns}, ${microsecondText(at)} as cursor_at from ${query.from} ${where.toSql()}
     order by ${at} ${direction}, ${id} ${direction} limit ?`,
    [...(query.columnParams ?? []), ...where.params, request.limit + 1],
  );
  const more = rows.length > request.limit;
  const page = rows.slice(0, request.limit);
  if (backwards) page.reverse();
  const first = page[0];
  const last = page.at(-1);
  const link = (direction: Cursor["direction"], row: { cursor_at: string; id: string } | undefined) => {
    if (row) return encodeCursor({ direction, inclusive: false, at: row.cursor_at, id: row.id });
    // An empty page (rows were deleted): the way back starts at the cursor's row itself.
    return cursor ? encodeCursor({ ...cursor, direction, inclusive: true }) : null;
  };
  let next: string | null;
  let previous: string | null;
  if (!cursor) {
    next = more ? link("next", last) : null;
    previous = null;
  } else if (backwards) {
    // The cursor's row (or what followed it) lies after this page.
    next = link("next", last);
    previous = more ? link("previous", first) : null;
  } else {
    next = more ? link("next", last) : null;
    // The page a cursor came from lies before this one, as DRF has it.
    previous = link("previous", first);
  }
  return { next, previous, results: page.map(({ cursor_at: _at, ...row }) => row as unknown as Row) };
}
