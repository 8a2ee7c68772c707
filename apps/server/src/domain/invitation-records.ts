import {
  type EntityManager,
  type Invitation,
  isoTimestamp,
  type Role,
  runStatement,
  type Statement,
  selectRows,
  withParts,
} from "@tenantry/db";
import { type AuditContext, type AuditRecord, auditInsertSelectSql, auditInsertSql } from "./audit.js";
import {
  Conditions,
  type CursorPage,
  type CursorRequest,
  cursorQuery,
  type Page,
  type PageRequest,
  pagedQuery,
} from "./paging.js";
import type { InvitationStatus, InvitationView } from "./views.js";

/**
 * Invitations as rows: the columns a read selects, the row it returns, the
 * one mapping from a row to the view, and the hand-written statements on
 * invitations. An invitation loaded as an entity is put in the same row
 * shape first (`invitationRow`), so there is one mapper.
 */
export interface InvitationRow {
  id: string;
  tenant_id: string;
  email: string;
  role: Role | null;
  status: InvitationStatus;
  invited_by_id: string | null;
  created_at: string;
  expires_at: string;
  accepted_at: string | null;
  email_delivery: Invitation["emailDelivery"];
}

/** The select list of an `InvitationRow` from `invitations i`; its one placeholder is the instant `status` is read at. */
export const INVITATION_COLUMNS = `i.id, i.tenant_id, i.email, i.role,
        case when i.state = 'pending' and i.expires_at <= ?::timestamptz then 'expired' else i.state end as status,
        i.invited_by_id, ${isoTimestamp("i.created_at")} as created_at, ${isoTimestamp("i.expires_at")} as expires_at,
        ${isoTimestamp("i.accepted_at")} as accepted_at, i.email_delivery`;

export function invitationView(row: InvitationRow): InvitationView {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    email: row.email,
    role: row.role,
    status: row.status,
    invitedById: row.invited_by_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    acceptedAt: row.accepted_at,
    emailDelivery: row.email_delivery,
  };
}

/** `expired` is not stored: a pending invitation past its expiry reads as expired. */
export function invitationStatus(invitation: Pick<Invitation, "state" | "expiresAt">, now: Date): InvitationStatus {
  return invitation.state === "pending" && invitation.expiresAt.getTime() <= now.getTime()
    ? "expired"
    : invitation.state;
}

type InvitationFields = Pick<
  Invitation,
  | "id"
  | "tenant"
  | "email"
  | "role"
  | "state"
  | "invitedBy"
  | "createdAt"
  | "expiresAt"
  | "acceptedAt"
  | "emailDelivery"
>;

/** A loaded invitation as the row a read would return at `now`. */
export function invitationRow(invitation: InvitationFields, now: Date): InvitationRow {
  return {
    id: invitation.id,
    tenant_id: invitation.tenant,
    email: invitation.email,
    role: invitation.role ?? null,
    status: invitationStatus(invitation, now),
    invited_by_id: invitation.invitedBy ?? null,
    created_at: invitation.createdAt.toISOString(),
    expires_at: invitation.expiresAt.toISOString(),
    accepted_at: invitation.acceptedAt ? invitation.acceptedAt.toISOString() : null,
    email_delivery: invitation.emailDelivery,
  };
}

/**
 * The assignments that end a pending invitation (`state` becomes `ended`):
 * its token is no longer sealed for delivery, and an email that has not gone
 * out is cancelled (recorded as failed, with the reason). The first
 * placeholder is the instant it ended at.
 */
function endPendingSql(ended: "revoked" | "accepted"): string {
  return `state = '${ended}', ${ended}_at = ?,
    delivery_token_ciphertext = null, delivery_next_attempt_at = null,
    delivery_last_error = case when email_delivery = 'pending'
      then 'Cancelled: the invitation was ${ended} before delivery.' else delivery_last_error end,
    email_delivery = case when email_delivery = 'pending' then 'failed' else email_delivery end`;
}

/**
 * The update that revokes the pending invitation `id`, or a tenant's pending
 * invitations of some addresses (any case); `andWhere` is one more condition.
 */
function revokePendingSql(
  now: Date,
  which: { id: string } | { tenantId: string; emails: string[] },
  andWhere?: string,
): Statement {
  const [condition, params] =
    "id" in which
      ? ["id = ?", [which.id]]
      : [
          `tenant_id = ? and lower(email) in (${which.emails.map(() => "lower(?)").join(", ")})`,
          [which.tenantId, ...which.emails],
        ];
  return {
    sql: `update invitations set ${endPendingSql("revoked")} where state = 'pending' and ${condition}${andWhere ? ` and ${andWhere}` : ""}
       returning id, lower(email) as email`,
    params: [now, ...params],
  };
}

/**
 * Revokes the pending invitation `id`, or a tenant's pending invitations of
 * some addresses (any case); returns what it revoked, with each address
 * lower-cased. Runs in `em`'s transaction.
 */
export async function revokePending(
  em: EntityManager,
  now: Date,
  which: { id: string } | { tenantId: string; emails: string[] },
): Promise<{ id: string; email: string }[]> {
  if ("emails" in which && which.emails.length === 0) return [];
  const { sql, params } = revokePendingSql(now, which);
  return em.getConnection().execute<{ id: string; email: string }[]>(sql, params, "all", em.getTransactionContext());
}

/** A new pending invitation, its email waiting in the outbox with the token sealed. */
export interface NewInvitation {
  id: string;
  tenantId: string;
  email: string;
  role: Role | null;
  tokenHash: string;
  invitedById: string | null;
  createdAt: Date;
  expiresAt: Date;
  sealedToken: string;
}

/**
 * One statement: unless the address is a user of the tenant already (any
 * case; then nothing changes), revokes the tenant's pending invitation of the
 * address, inserts `invitation` and records `event`, whose details get
 * `replaced`, the ids of the invitations it revoked. Run it in a transaction
 * that holds the tenant's lock (`lockTenant`), so that it sees the
 * invitation a concurrent invite of the address made before it.
 */
export async function replacePendingInvitation(
  em: EntityManager,
  audit: AuditContext,
  invitation: NewInvitation,
  event: AuditRecord,
): Promise<{ member: boolean }> {
  const i = invitation;
  const statement = withParts(
    [
      [
        "member",
        {
          sql: "select 1 from users where tenant_id = ? and lower(email) = lower(?) limit 1",
          params: [i.tenantId, i.email],
        },
      ],
      [
        "revoked",
        revokePendingSql(i.createdAt, { tenantId: i.tenantId, emails: [i.email] }, "not exists (select 1 from member)"),
      ],
      // An aggregate of every revoked row: the insert below runs after the revoke.
      ["replaced", { sql: "select coalesce(jsonb_agg(id), '[]'::jsonb) as ids from revoked", params: [] }],
      [
        "created",
        {
          sql: `insert into invitations (id, tenant_id, email, role, token_hash, state, invited_by_id, created_at,
                  expires_at, accepted_at, email_delivery, delivery_attempts, delivery_next_attempt_at,
                  delivery_token_ciphertext)
                select ?::uuid, ?::uuid, ?, ?, ?, 'pending', ?::uuid, ?::timestamptz,
                  ?::timestamptz, null, 'pending', 0, ?::timestamptz, ?
                from replaced where not exists (select 1 from member)
                returning id`,
          params: [
            i.id,
            i.tenantId,
            i.email,
            i.role,
            i.tokenHash,
            i.invitedById,
            i.createdAt,
            i.expiresAt,
            i.createdAt,
            i.sealedToken,
          ],
        },
      ],
      [
        "event",
        auditInsertSql(audit, event, i.createdAt, {
          from: "created, replaced",
          moreDetails: "jsonb_build_object('replaced', replaced.ids)",
        }),
      ],
    ],
    { sql: "select exists (select 1 from member) as member", params: [] },
  );
  const [row] = await runStatement<{ member: boolean }>(em, statement.sql, statement.params);
  return { member: row?.member ?? false };
}

/** An invitation as accepting it reads it, by its token's hash. */
export interface InvitationToAccept {
  id: string;
  tenant: string;
  email: string;
  role: Role | null;
  state: Invitation["state"];
  invitedBy: string | null;
  expiresAt: Date;
}

/** The invitation whose token has this hash, or null. */
export async function invitationByTokenHash(em: EntityManager, tokenHash: string): Promise<InvitationToAccept | null> {
  const rows = await selectRows<{
    id: string;
    tenant_id: string;
    email: string;
    role: Role | null;
    state: Invitation["state"];
    invited_by_id: string | null;
    expires_at: Date;
  }>(em, "select id, tenant_id, email, role, state, invited_by_id, expires_at from invitations where token_hash = ?", [
    tokenHash,
  ]);
  const row = rows[0];
  if (!row) return null;
  return {
    id: row.id,
    tenant: row.tenant_id,
    email: row.email,
    role: row.role,
    state: row.state,
    invitedBy: row.invited_by_id,
    expiresAt: new Date(row.expires_at),
  };
}

/**
 * Accepts the invitation if it is still pending and unexpired under this
 * token (a resend replaces the token), and makes what comes with it (`then`:
 * inserts that read `from claimed`, so they run only for a claimed row) in
 * the same statement: all or nothing. False, with nothing done, when another
 * accept, a revoke or a resend came first.
 */
export async function claimForAcceptance(
  em: EntityManager,
  now: Date,
  id: string,
  tokenHash: string,
  then: [name: string, part: Statement][],
): Promise<boolean> {
  const statement = withParts(
    [
      [
        "claimed",
        {
          sql: `update invitations set ${endPendingSql("accepted")}
                 where id = ? and token_hash = ? and state = 'pending' and expires_at > ?
                 returning id`,
          params: [now, id, tokenHash, now],
        },
      ],
      ...then,
    ],
    { sql: "select count(*)::int as claimed from claimed", params: [] },
  );
  const [row] = await runStatement<{ claimed: number }>(em, statement.sql, statement.params);
  return (row?.claimed ?? 0) > 0;
}

/** The invitations of a tenant (or every tenant) whose status reads as `filter.status` at `now`. */
function invitationConditions(tenantId: string | null, filter: { status?: InvitationStatus }, now: Date): Conditions {
  const where = new Conditions();
  if (tenantId) where.add("i.tenant_id = ?", tenantId);
  if (filter.status === "pending") where.add("i.state = 'pending' and i.expires_at > ?", now);
  if (filter.status === "expired") where.add("i.state = 'pending' and i.expires_at <= ?", now);
  if (filter.status === "accepted" || filter.status === "revoked") where.add("i.state = ?", filter.status);
  return where;
}

/** One statement: the invitations of a tenant (or every tenant), oldest first, filtered on the status read at `now`. */
export function selectInvitations(
  em: EntityManager,
  tenantId: string | null,
  filter: { status?: InvitationStatus },
  now: Date,
  page: PageRequest | undefined,
): Promise<Page<InvitationRow>> {
  return pagedQuery<InvitationRow>(
    em,
    {
      columns: INVITATION_COLUMNS,
      columnParams: [now],
      from: "invitations i",
      where: invitationConditions(tenantId, filter, now),
      orderBy: "i.created_at, i.id",
      counted: tenantId && !filter.status ? { list: "invitations", tenantId } : undefined,
    },
    page,
  );
}

/** The same list, oldest first, a page at a time by cursor (off the index on (tenant_id, created_at, id)). */
export function selectInvitationsByCursor(
  em: EntityManager,
  tenantId: string | null,
  filter: { status?: InvitationStatus },
  now: Date,
  request: CursorRequest,
): Promise<CursorPage<InvitationRow>> {
  return cursorQuery<InvitationRow>(
    em,
    {
      columns: INVITATION_COLUMNS,
      columnParams: [now],
      from: "invitations i",
      where: invitationConditions(tenantId, filter, now),
      order: { at: "i.created_at", id: "i.id", descending: false },
    },
    request,
  );
}

/**
 * Deletes the invitations of a tenant (or every tenant) that expired, or were
 * revoked, before `cutoff`, each recorded as purged in the same statement;
 * returns how many. A dry run only counts them.
 */
export async function deleteOldInvitations(
  em: EntityManager,
  audit: AuditContext,
  options: { tenantId: string | null; cutoff: Date; olderThanDays: number; dryRun: boolean; now: Date },
): Promise<number> {
  const { cutoff } = options;
  const where = new Conditions().add(
    "((i.state = 'pending' and i.expires_at < ?) or (i.state = 'revoked' and i.revoked_at < ?))",
    cutoff,
    cutoff,
  );
  if (options.tenantId) where.add("i.tenant_id = ?", options.tenantId);
  const connection = em.getConnection();
  if (options.dryRun) {
    const rows = await connection.execute<{ count: string }[]>(
      `select count(*) as count from invitations i ${where.toSql()}`,
      where.params,
    );
    return Number(rows[0]?.count ?? 0);
  }
  const event = auditInsertSelectSql(
    audit,
    { action: "invitation.purged", targetType: "invitation" },
    {
      name: "purged p",
      tenantId: "p.tenant_id",
      targetId: "p.id::text",
      details: {
        sql: `jsonb_build_object('email', p.email,
                               'status', case when p.state = 'revoked' then 'revoked' else 'expired' end,
                               'expiresAt', ${isoTimestamp("p.expires_at")}, 'revokedAt', ${isoTimestamp("p.revoked_at")},
                               'olderThanDays', ?::int)`,
        params: [options.olderThanDays],
      },
    },
    options.now,
  );
  const rows = await connection.execute<{ id: string }[]>(
    `with purged as (
       delete from invitations i ${where.toSql()}
       returning i.id, i.tenant_id, i.email, i.state, i.expires_at, i.revoked_at
     )
     ${event.sql}
     returning target_id as id`,
    [...where.params, ...event.params],
  );
  return rows.length;
}
