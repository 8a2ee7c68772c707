import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, openDatabase } from "./database.js";
import { Invitation } from "./entities/index.js";
import { migrationsList } from "./migrations/index.js";
import { availableTestBackends, createTestDatabase, type TestDatabase } from "./testing.js";

/**
 * Every migration applied to a database that already holds data, as an
 * upgrade meets it: for each migration N, a fresh schema is migrated up to
 * N-1, filled with representative rows in plain SQL (only the tables and
 * columns that exist at that version), then N is applied and the rows must
 * still be there, with what is derived from them right. Generic over
 * `migrationsList`, so a new migration is covered by adding it there.
 */

type Row = Record<string, unknown>;

const T1 = "00000000-0000-4000-8000-000000000001";
const T2 = "00000000-0000-4000-8000-000000000002";
const ROOT = "00000000-0000-4000-8000-000000000010";
const ADMIN1 = "00000000-0000-4000-8000-000000000011";
const MEMBER1 = "00000000-0000-4000-8000-000000000012";
const ADMIN2 = "00000000-0000-4000-8000-000000000021";
const REVOKED = "00000000-0000-4000-8000-000000000303";
const hex64 = (seed: string) => seed.repeat(64).slice(0, 64);
const at = (day: number) => new Date(Date.UTC(2026, 10, day, 12)).toISOString();

/** Rows valid at every schema version, keyed by table, in insertion order; columns a version lacks are left out. */
const SEED: [table: string, rows: Row[]][] = [
  [
    "tenants",
    [
      { id: T1, name: "Acme Corp", slug: "acme-corp", created_at: at(1) },
      { id: T2, name: "Beta", slug: "beta", created_at: at(2) },
    ],
  ],
  [
    "users",
    [
      { id: ROOT, tenant_id: null, email: "root@example.com", password_hash: "x", is_superuser: true },
      { id: ADMIN1, tenant_id: T1, email: "Admin@Acme.example.com", password_hash: "x", first_name: "Ann" },
      { id: MEMBER1, tenant_id: T1, email: "member@acme.example.com", password_hash: "x", date_joined: at(3) },
      { id: ADMIN2, tenant_id: T2, email: "admin@beta.example.com", password_hash: "x" },
    ],
  ],
  [
    "role_assignments",
    [
      { id: "00000000-0000-4000-8000-000000000101", tenant_id: T1, user_id: ADMIN1, role: "ADMIN" },
      {
        id: "00000000-0000-4000-8000-000000000102",
        tenant_id: T1,
        user_id: MEMBER1,
        role: "VIEWER",
        granted_by_id: ADMIN1,
      },
      { id: "00000000-0000-4000-8000-000000000103", tenant_id: T1, user_id: MEMBER1, role: "ANALYST" },
      { id: "00000000-0000-4000-8000-000000000201", tenant_id: T2, user_id: ADMIN2, role: "ADMIN" },
    ],
  ],
  [
    "invitations",
    [
      {
        id: "00000000-0000-4000-8000-000000000301",
        tenant_id: T1,
        email: "pending@example.com",
        role: "ANALYST",
        token_hash: hex64("a"),
        invited_by_id: ADMIN1,
        created_at: at(4),
        expires_at: at(11),
        email_delivery: "pending",
        delivery_attempts: 1,
        delivery_next_attempt_at: at(4),
        delivery_last_error: "connection refused",
        delivery_token_ciphertext: "sealed",
      },
      {
        id: "00000000-0000-4000-8000-000000000302",
        tenant_id: T1,
        email: "member@acme.example.com",
        role: "VIEWER",
        token_hash: hex64("b"),
        state: "accepted",
        accepted_at: at(5),
        created_at: at(4),
        expires_at: at(11),
        email_delivery: "sent",
      },
      {
        id: REVOKED,
        tenant_id: T1,
        email: "gone@example.com",
        role: null,
        token_hash: hex64("c"),
        state: "revoked",
        revoked_at: at(6),
        created_at: at(5),
        expires_at: at(12),
        email_delivery: "failed",
      },
      {
        id: "00000000-0000-4000-8000-000000000304",
        tenant_id: T2,
        email: "pending@example.com",
        role: "VIEWER",
        token_hash: hex64("d"),
        created_at: at(5),
        expires_at: at(12),
      },
    ],
  ],
  ["sessions", [{ id: "aaaaaaaaaaaaaaaaaaaaaaaa", secret_hash: hex64("e"), user_id: ADMIN1, expires_at: at(20) }]],
  ["throttle_counters", [{ key: hex64("f"), window_start: at(7), hits: 3 }]],
  [
    "audit_events",
    [
      {
        id: "00000000-0000-4000-8000-000000000401",
        occurred_at: at(1),
        actor_type: "anonymous",
        tenant_id: T1,
        action: "tenant.created",
        target_type: "tenant",
        target_id: T1,
        details: JSON.stringify({ name: "Acme Corp" }),
        ip: "192.0.2.1",
        user_agent: "curl",
      },
      {
        id: "00000000-0000-4000-8000-000000000402",
        occurred_at: at(6),
        actor_type: "user",
        actor_id: ADMIN1,
        actor_email: "admin@acme.example.com",
        tenant_id: T1,
        action: "invitation.revoked",
        target_type: "invitation",
        target_id: REVOKED,
      },
    ],
  ],
];

/** The counted lists of `list_counts` and the rows that are counted. */
const COUNTED = ["users", "role_assignments", "invitations"];

describe.each(await availableTestBackends())("migrations upgrade a database that holds data (%s)", (backend) => {
  let testDb: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    testDb = await createTestDatabase(backend);
    db = await openDatabase(testDb.target, { poolSize: 1, migrate: false });
  });
  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });

  const sql = <T = Row>(query: string, params: unknown[] = []) =>
    db.orm.em.fork().getConnection().execute<T[]>(query, params);

  /** Each table's columns, as the database has them now. */
  async function columnsByTable(): Promise<Map<string, string[]>> {
    const rows = await sql<{ table_name: string; column_name: string }>(
      "select table_name, column_name from information_schema.columns where table_schema = 'public' order by ordinal_position",
    );
    const tables = new Map<string, string[]>();
    for (const row of rows) tables.set(row.table_name, [...(tables.get(row.table_name) ?? []), row.column_name]);
    return tables;
  }

  /** Every seeded table's rows, restricted to `columns`, as text (so types read alike on both sides). */
  async function snapshot(columns: Map<string, string[]>): Promise<Record<string, Row[]>> {
    const tables: Record<string, Row[]> = {};
    for (const [table] of SEED) {
      const present = columns.get(table);
      if (!present) continue;
      const list = present.map((column) => `"${column}"::text as "${column}"`).join(", ");
      tables[table] = await sql(`select ${list} from ${table} order by 1`);
    }
    return tables;
  }

  const migrate = async (to: string) => (await db.migrator()).up({ to });

  for (const [index, migration] of migrationsList.entries()) {
    const previous = migrationsList[index - 1];
    if (!previous) continue;

    it(`${migration.name} keeps the rows of ${previous.name} and derives what it adds`, async () => {
      // A fresh, empty schema: the same as a new database, without creating one.
      await sql("drop schema public cascade");
      await sql("create schema public");
      expect((await migrate(previous.name)).map((m) => m.name)).toEqual(
        migrationsList.slice(0, index).map((m) => m.name),
      );

      const before = await columnsByTable();
      let seeded = 0;
      for (const [table, rows] of SEED) {
        const present = before.get(table);
        if (!present) continue;
        for (const row of rows) {
          const columns = Object.keys(row).filter((column) => present.includes(column));
          await sql(
            `insert into ${table} (${columns.map((c) => `"${c}"`).join(", ")}) values (${columns.map(() => "?").join(", ")})`,
            columns.map((column) => row[column]),
          );
          seeded++;
        }
      }
      expect(seeded).toBeGreaterThan(0);
      const rowsBefore = await snapshot(before);

      expect((await migrate(migration.name)).map((m) => m.name)).toEqual([migration.name]);

      // Every row is still there, every value it had unchanged (on the columns both versions have).
      const after = await columnsByTable();
      const common = new Map(
        [...before].map(([table, columns]) => [table, columns.filter((column) => after.get(table)?.includes(column))]),
      );
      expect(await snapshot(common)).toEqual(rowsBefore);

      // Derived state: the list counts, where they exist, are the real counts.
      if (after.has("list_counts")) {
        const counts = await sql<{ tenant_id: string; list: string; count: string }>(
          "select tenant_id, list, count::text as count from list_counts where count > 0 order by 1, 2",
        );
        const real: { tenant_id: string; list: string; count: string }[] = [];
        for (const list of COUNTED) {
          real.push(
            ...(await sql<{ tenant_id: string; list: string; count: string }>(
              `select tenant_id, '${list}' as list, count(*)::text as count from ${list} where tenant_id is not null group by tenant_id`,
            )),
          );
        }
        real.sort((a, b) => `${a.tenant_id} ${a.list}`.localeCompare(`${b.tenant_id} ${b.list}`));
        expect(counts).toEqual(real);
        expect(counts.length).toBeGreaterThan(0);
        // And they keep following the rows after the upgrade.
        await sql("delete from users where id = ?", [MEMBER1]);
        const [users] = await sql<{ count: string }>(
          "select count::text as count from list_counts where tenant_id = ? and list = 'users'",
          [T1],
        );
        expect(users?.count).toBe("1");
      }
      // Revoked invitations carry when they were revoked: backfilled from their creation when the column came.
      if (after.get("invitations")?.includes("revoked_at")) {
        const revoked = await sql<{ id: string; revoked_at: string }>(
          "select id, revoked_at::text as revoked_at from invitations where state = 'revoked'",
        );
        const [expected] = await sql<{ at: string }>(
          before.get("invitations")?.includes("revoked_at")
            ? "select ?::timestamptz::text as at"
            : "select created_at::text as at from invitations where id = ?",
          [before.get("invitations")?.includes("revoked_at") ? at(6) : REVOKED],
        );
        expect(revoked).toEqual([{ id: REVOKED, revoked_at: expected?.at }]);
      }

      // After the last migration, the entities read every row.
      if (index === migrationsList.length - 1) {
        const em = db.orm.em.fork();
        for (const meta of Object.values(db.orm.getMetadata().getAll())) {
          const [row] = await sql<{ count: string }>(`select count(*)::text as count from ${meta.tableName}`);
          expect((await em.find(meta.className, {})).length, meta.tableName).toBe(Number(row?.count));
        }
        const revoked = await em.findOneOrFail(Invitation, { id: REVOKED });
        expect(revoked.revokedAt).toBeInstanceOf(Date);
      }
    });
  }
});

describe.each(await availableTestBackends())("opening a database migrates only what is missing (%s)", (backend) => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase(backend);
  });
  afterAll(async () => {
    await testDb?.drop();
  });

  /** Opens the database (migrating it), closes it, and returns the statements the ORM sent meanwhile. */
  async function openAndClose(): Promise<string[]> {
    const statements: string[] = [];
    const db = await openDatabase(testDb.target, { poolSize: 1, onQuery: (sql) => statements.push(sql) });
    const applied = await db.orm.em
      .fork()
      .getConnection()
      .execute<{ name: string }[]>("select name from mikro_orm_migrations order by id");
    await db.close();
    expect(applied.map((row) => row.name)).toEqual(migrationsList.map((m) => m.name));
    return statements;
  }

  it("applies the migrations a database lacks, and checks an up-to-date one with a single query", async () => {
    const older = migrationsList.at(-2)?.name;
    const partial = await openDatabase(testDb.target, { poolSize: 1, migrate: false });
    try {
      expect((await (await partial.migrator()).up({ to: older })).length).toBe(migrationsList.length - 1);
    } finally {
      await partial.close();
    }

    // The newest migration is applied (openAndClose checks the table) by the migrator.
    const upgrade = await openAndClose();
    expect(upgrade.some((sql) => sql.includes("information_schema"))).toBe(true);

    const again = await openAndClose();
    expect(again).toEqual([
      'select name from "public"."mikro_orm_migrations"',
      "select name from mikro_orm_migrations order by id",
    ]);
  });
});

/** MikroORM's column types as PostgreSQL's `format_type` names them. */
const TYPE_NAMES: Record<string, string> = {
  int: "integer",
  int4: "integer",
  int8: "bigint",
  bool: "boolean",
  timestamptz: "timestamp with time zone",
  "timestamptz(6)": "timestamp with time zone",
};

describe.each(await availableTestBackends())("the entities and the migrated schema agree (%s)", (backend) => {
  let testDb: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    testDb = await createTestDatabase(backend);
    db = await openDatabase(testDb.target, { poolSize: 1 });
  });
  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });

  it("every mapped property is a column of that type and nullability, and every column is mapped", async () => {
    const columns = await db.orm.em
      .fork()
      .getConnection()
      .execute<{ table: string; column: string; type: string; nullable: boolean }[]>(
        `select c.relname as table, a.attname as column, format_type(a.atttypid, a.atttypmod) as type,
                not a.attnotnull as nullable
           from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = 'public' and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped`,
      );
    const metas = db.orm.getMetadata().getAll();
    const expected: typeof columns = [];
    const mappedTables = new Set<string>();
    for (const meta of Object.values(metas)) {
      if (meta.virtual || meta.embeddable) continue;
      mappedTables.add(meta.tableName);
      for (const property of meta.props) {
        if (property.persist === false || !property.fieldNames) continue;
        property.fieldNames.forEach((column, i) => {
          const type = (property.columnTypes?.[i] ?? "").toLowerCase();
          expected.push({
            table: meta.tableName,
            column,
            type: TYPE_NAMES[type] ?? type,
            nullable: property.nullable === true,
          });
        });
      }
    }
    const order = (rows: typeof columns) =>
      [...rows].sort((a, b) => `${a.table}.${a.column}`.localeCompare(`${b.table}.${b.column}`));
    expect(order(columns.filter((column) => mappedTables.has(column.table)))).toEqual(order(expected));
    expect(mappedTables.size).toBeGreaterThan(0);
  });
});
