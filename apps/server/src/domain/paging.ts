import { type EntityManager, selectRows } from "@tenantry/db";

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
