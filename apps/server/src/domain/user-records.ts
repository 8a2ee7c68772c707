import { type EntityManager, isoTimestamp, newId, type Role, type Statement, User } from "@tenantry/db";
import type { UserRecord } from "./caller.js";
import { Conditions, type Page, type PageRequest, pagedQuery } from "./paging.js";

/**
 * Users as rows and records: the select list, the row, the mappings, and the
 * users' own statements. Reading users with their roles is one statement. The roles come from a
 * correlated aggregate, so a list of N users is still one query.
 */
export const USER_COLUMNS = `u.id, u.tenant_id, u.email, u.first_name, u.last_name, u.is_superuser, u.is_active,
  ${isoTimestamp("u.date_joined")} as date_joined,
  coalesce((select array_agg(ra.role order by ra.role) from role_assignments ra where ra.user_id = u.id), '{}') as roles`;

export interface UserRow {
  id: string;
  tenant_id: string | null;
  email: string;
  first_name: string;
  last_name: string;
  is_superuser: boolean;
  is_active: boolean;
  date_joined: string;
  roles: Role[];
}

export function userRecord(row: UserRow): UserRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    email: row.email,
    firstName: row.first_name,
    lastName: row.last_name,
    isSuperuser: row.is_superuser,
    isActive: row.is_active,
    dateJoined: row.date_joined,
    roles: row.roles,
  };
}

/** A created user as the record a read would return. */
export function userRecordOf(
  user: Pick<User, "id" | "tenant" | "email" | "firstName" | "lastName" | "isSuperuser" | "isActive" | "dateJoined">,
  roles: Role[],
): UserRecord {
  return {
    id: user.id,
    tenantId: user.tenant ?? null,
    email: user.email,
    firstName: user.firstName,
    lastName: user.lastName,
    isSuperuser: user.isSuperuser,
    isActive: user.isActive,
    dateJoined: user.dateJoined.toISOString(),
    roles,
  };
}

export interface NewUserFields {
  tenantId: string | null;
  email: string;
  passwordHash: string;
  firstName?: string;
  lastName?: string;
}

/** A new user: a member of `tenantId`, or platform staff (a superuser) for null. */
export function newUser(fields: NewUserFields, now: Date) {
  return {
    id: newId(),
    tenant: fields.tenantId,
    email: fields.email,
    passwordHash: fields.passwordHash,
    firstName: fields.firstName ?? "",
    lastName: fields.lastName ?? "",
    isSuperuser: fields.tenantId === null,
    isActive: true,
    dateJoined: now,
  };
}

export type NewUser = ReturnType<typeof newUser>;

/** Adds a new user to the unit of work. */
export function addUser(em: EntityManager, fields: NewUserFields, now: Date): User {
  return em.create(User, newUser(fields, now));
}

/** The insert of a new user, for a statement that makes it with more (`with … insert`); with `from`, once per row of it. */
export function userInsertSql(user: NewUser, from?: string): Statement {
  const values = "?::uuid, ?::uuid, ?, ?, ?, ?, ?::boolean, ?::boolean, ?::timestamptz";
  return {
    sql: `insert into users (id, tenant_id, email, password_hash, first_name, last_name, is_superuser, is_active, date_joined)
          ${from ? `select ${values} from ${from}` : `values (${values})`}`,
    params: [
      user.id,
      user.tenant,
      user.email,
      user.passwordHash,
      user.firstName,
      user.lastName,
      user.isSuperuser,
      user.isActive,
      user.dateJoined,
    ],
  };
}

/** The tenant of a user the scope covers; undefined for no such user (or a superuser, of no tenant). */
export async function tenantOfUser(
  em: EntityManager,
  userId: string,
  tenantId: string | null,
): Promise<string | undefined> {
  const rows = await em
    .getConnection()
    .execute<{ tenant_id: string | null }[]>(
      tenantId
        ? "select tenant_id from users where id = ? and tenant_id = ?"
        : "select tenant_id from users where id = ?",
      tenantId ? [userId, tenantId] : [userId],
    );
  return rows[0]?.tenant_id ?? undefined;
}

/** The users of one tenant with their roles, in one statement; paged, with the total the database keeps. */
export function selectUsers(
  em: EntityManager,
  tenantId: string,
  filter: { isActive?: boolean },
  page: PageRequest | undefined,
): Promise<Page<UserRow>> {
  const where = new Conditions().add("u.tenant_id = ?", tenantId);
  if (filter.isActive !== undefined) where.add("u.is_active = ?", filter.isActive);
  return pagedQuery<UserRow>(
    em,
    {
      columns: USER_COLUMNS,
      from: "users u",
      where,
      orderBy: "u.date_joined, u.id",
      // The kept count is the whole tenant's; a filtered list is counted as it is read.
      counted: filter.isActive === undefined ? { list: "users", tenantId } : undefined,
    },
    page,
  );
}
