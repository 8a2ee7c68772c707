import { createInvitationToken, hashInvitationToken, hashPassword, passwordProblems } from "@tenantry/auth";
import { type EntityManager, Invitation, newId, type Role, type Statement, transaction } from "@tenantry/db";
import { type AuditAction, type AuditRecord, auditInsertSql, insertAudit } from "./audit.js";
import type { TenantScope } from "./caller.js";
import { DAY_MS } from "./clock.js";
import type { ServiceContext } from "./context.js";
import { violatedUniqueConstraint } from "./db-errors.js";
import { FieldErrorCollector, InvalidRequest, NotFound, ValidationFailed } from "./errors.js";
import {
  claimForAcceptance,
  deleteOldInvitations,
  type InvitationToAccept,
  invitationByTokenHash,
  invitationRow,
  invitationStatus,
  invitationView,
  type NewInvitation,
  replacePendingInvitation,
  revokePending,
  selectInvitations,
  selectInvitationsByCursor,
} from "./invitation-records.js";
import { lockTenant } from "./locks.js";
import type { CursorPage, CursorRequest, Page, PageRequest } from "./paging.js";
import { roleAssignmentInsertSql } from "./role-assignment-records.js";
import { requireTenant } from "./scope.js";
import { newUser, userInsertSql, userRecordOf } from "./user-records.js";
import { type InvitationStatus, type InvitationView, type UserView, userView } from "./views.js";

export const DEFAULT_INVITATION_DAYS = 7;

export const EMAIL_IS_MEMBER = "A user with this email already exists in this tenant.";
const TOKEN_INVALID = "Invalid or revoked invitation token.";
const TOKEN_EXPIRED = "This invitation has expired.";
const TOKEN_ACCEPTED = "This invitation has already been accepted.";
const REPLACE_ATTEMPTS = 3;

/** An event about an invitation: recorded against its tenant, with it as the target. */
function invitationEvent(
  action: AuditAction,
  invitation: Pick<Invitation, "id" | "tenant">,
  details: Record<string, unknown>,
): AuditRecord {
  return { action, tenantId: invitation.tenant, target: { type: "invitation", id: invitation.id }, details };
}

export interface InviteInput {
  email: string;
  role: Role | null;
}

/**
 * Invites an address into the scope's tenant. A pending invitation for the
 * same address is replaced (revoked) in the same statement; the database
 * allows one pending invitation per address, and concurrent invites of one
 * tenant take turns on its lock, so two concurrent invites cannot both stay
 * pending. The token is returned here, once.
 */
export async function inviteUser(
  ctx: ServiceContext,
  scope: TenantScope,
  input: InviteInput,
  invitedById: string | null,
): Promise<InvitationView & { token: string }> {
  const tenantId = requireTenant(scope);
  const { token, tokenHash } = createInvitationToken();
  const sealedToken = ctx.mailbox.seal(token);
  for (let attempt = 1; ; attempt++) {
    const now = ctx.clock.now();
    const invitation: NewInvitation = {
      id: newId(),
      tenantId,
      email: input.email,
      role: input.role,
      tokenHash,
      invitedById,
      createdAt: now,
      expiresAt: new Date(now.getTime() + DEFAULT_INVITATION_DAYS * DAY_MS),
      sealedToken,
    };
    try {
      await transaction(ctx.em, async (em) => {
        // Concurrent invites of one address take turns, so each replaces the one before.
        await lockTenant(em, tenantId);
        const event = invitationEvent(
          "invitation.created",
          { id: invitation.id, tenant: tenantId },
          {
            email: input.email,
            role: input.role,
          },
        );
        const { member } = await replacePendingInvitation(em, ctx.audit, invitation, event);
        if (member) throw ValidationFailed.field("email", EMAIL_IS_MEMBER);
      });
      ctx.mailbox.notify("invitation");
      return {
        ...invitationView({
          id: invitation.id,
          tenant_id: tenantId,
          email: invitation.email,
          role: invitation.role,
          status: "pending",
          invited_by_id: invitedById,
          created_at: now.toISOString(),
          expires_at: invitation.expiresAt.toISOString(),
          accepted_at: null,
          email_delivery: "pending",
        }),
        token,
      };
    } catch (error) {
      // A concurrent invite of the same address committed first: replace it in turn.
      if (violatedUniqueConstraint(error) === "invitations_one_pending_key" && attempt < REPLACE_ATTEMPTS) continue;
      throw error;
    }
  }
}

/** Oldest first; `status` filters on what the status reads as now (expired is derived). */
export async function listInvitations(
  ctx: Pick<ServiceContext, "em" | "clock">,
  scope: TenantScope,
  filter: { status?: InvitationStatus },
  page?: PageRequest,
): Promise<Page<InvitationView>> {
  const { count, results } = await selectInvitations(ctx.em, scope.tenantId, filter, ctx.clock.now(), page);
  return { count, results: results.map(invitationView) };
}

/** The same list, oldest first, a page at a time by cursor: a deep page costs what the first does. */
export async function listInvitationsByCursor(
  ctx: Pick<ServiceContext, "em" | "clock">,
  scope: TenantScope,
  filter: { status?: InvitationStatus },
  request: CursorRequest,
): Promise<CursorPage<InvitationView>> {
  const page = await selectInvitationsByCursor(ctx.em, scope.tenantId, filter, ctx.clock.now(), request);
  return { ...page, results: page.results.map(invitationView) };
}

async function findInScope(em: EntityManager, scope: TenantScope, id: string): Promise<Invitation> {
  const invitation = await em.findOne(Invitation, scope.tenantId ? { id, tenant: scope.tenantId } : { id });
  if (!invitation) throw new NotFound();
  return invitation;
}

/** Revoking stops the token at once; revoking a revoked invitation again is a no-op. */
export async function revokeInvitation(
  ctx: Pick<ServiceContext, "em" | "clock" | "audit">,
  scope: TenantScope,
  id: string,
): Promise<void> {
  const invitation = await findInScope(ctx.em, scope, id);
  if (invitation.state === "revoked") return;
  if (invitation.state === "pending") {
    const now = ctx.clock.now();
    const revoked = await ctx.em.transactional(async (em) => {
      if ((await revokePending(em, now, { id })).length === 0) return false;
      await insertAudit(
        em,
        ctx.audit,
        invitationEvent("invitation.revoked", invitation, { email: invitation.email }),
        now,
      );
      return true;
    });
    if (revoked) return;
    // Accepted or revoked between our read and our update.
    const current = await ctx.em.fork().findOne(Invitation, { id });
    if (current?.state === "revoked") return;
  }
  throw new InvalidRequest("An accepted invitation cannot be revoked.");
}

/** A pending or expired invitation becomes pending until now + days; the token stays the same. */
export async function extendInvitation(
  ctx: Pick<ServiceContext, "em" | "clock" | "audit">,
  scope: TenantScope,
  id: string,
  days: number,
): Promise<InvitationView> {
  const invitation = await findInScope(ctx.em, scope, id);
  const now = ctx.clock.now();
  const expiresAt = new Date(now.getTime() + days * DAY_MS);
  if (invitation.state === "pending") {
    const extended = await ctx.em.transactional(async (em) => {
      if ((await em.nativeUpdate(Invitation, { id, state: "pending" }, { expiresAt })) !== 1) return false;
      const previousExpiresAt = invitation.expiresAt.toISOString();
      const details = { days, expiresAt: expiresAt.toISOString(), previousExpiresAt };
      await insertAudit(em, ctx.audit, invitationEvent("invitation.extended", invitation, details), now);
      return true;
    });
    if (extended) {
      invitation.expiresAt = expiresAt;
      return invitationView(invitationRow(invitation, now));
    }
  }
  throw new InvalidRequest("Only a pending or expired invitation can be extended.");
}

/**
 * Sends a pending or expired invitation again: a new token (the old one stops
 * working at once), a new expiry, and the email hook runs again.
 */
export async function resendInvitation(
  ctx: Pick<ServiceContext, "em" | "clock" | "audit" | "mailbox">,
  scope: TenantScope,
  id: string,
): Promise<InvitationView & { token: string }> {
  const invitation = await findInScope(ctx.em, scope, id);
  const now = ctx.clock.now();
  const { token, tokenHash } = createInvitationToken();
  const expiresAt = new Date(now.getTime() + DEFAULT_INVITATION_DAYS * DAY_MS);
  if (invitation.state === "pending") {
    const resent = await ctx.em.transactional(async (em) => {
      const changed = await em.nativeUpdate(
        Invitation,
        { id, state: "pending" },
        {
          tokenHash,
          expiresAt,
          emailDelivery: "pending",
          deliveryAttempts: 0,
          deliveryNextAttemptAt: now,
          deliveryLastError: null,
          deliveryTokenCiphertext: ctx.mailbox.seal(token),
        },
      );
      if (changed !== 1) return false;
      const details = { email: invitation.email, expiresAt: expiresAt.toISOString() };
      await insertAudit(em, ctx.audit, invitationEvent("invitation.resent", invitation, details), now);
      return true;
    });
    if (resent) {
      ctx.mailbox.notify("invitation");
      Object.assign(invitation, { expiresAt, emailDelivery: "pending" });
      return { ...invitationView(invitationRow(invitation, now)), token };
    }
  }
  throw new InvalidRequest("Only a pending or expired invitation can be re-sent.");
}

export const DEFAULT_RETENTION_DAYS = 30;

/**
 * Deletes invitations that expired, or were revoked, more than `olderThanDays`
 * ago (accepted ones are kept: they record how a user joined). Each deletion
 * is recorded in the same statement. A dry run only counts.
 */
export async function purgeInvitations(
  ctx: Pick<ServiceContext, "em" | "clock" | "audit">,
  scope: TenantScope,
  options: { olderThanDays: number; dryRun: boolean },
): Promise<{ purged: number; dryRun: boolean; cutoff: string }> {
  const now = ctx.clock.now();
  const cutoff = new Date(now.getTime() - options.olderThanDays * DAY_MS);
  const purged = await deleteOldInvitations(ctx.em, ctx.audit, {
    tenantId: scope.tenantId,
    cutoff,
    olderThanDays: options.olderThanDays,
    dryRun: options.dryRun,
    now,
  });
  return { purged, dryRun: options.dryRun, cutoff: cutoff.toISOString() };
}

export interface AcceptInput {
  token: string;
  password: string;
  firstName?: string;
  lastName?: string;
}

/**
 * Turns an invitation into a user of its tenant with the invited role. The
 * invitation is claimed with a conditional update in the one statement that
 * also makes the user, the role assignment and the audit event, so of many
 * concurrent accepts of one token exactly one succeeds, and none succeeds
 * once a resend has replaced the token it read the invitation by.
 */
export async function acceptInvitation(
  ctx: Pick<ServiceContext, "em" | "clock" | "audit">,
  input: AcceptInput,
): Promise<UserView> {
  const tokenHash = hashInvitationToken(input.token);
  const invitation = await invitationByTokenHash(ctx.em, tokenHash);
  assertAcceptable(invitation, ctx.clock.now());
  const errors = new FieldErrorCollector();
  errors.add(
    "password",
    ...passwordProblems(input.password, {
      email: invitation.email,
      firstName: input.firstName,
      lastName: input.lastName,
    }),
  );
  errors.throwIfAny();
  const passwordHash = await hashPassword(input.password);

  const now = ctx.clock.now();
  const user = newUser(
    {
      tenantId: invitation.tenant,
      email: invitation.email,
      passwordHash,
      firstName: input.firstName,
      lastName: input.lastName,
    },
    now,
  );
  const details = { userId: user.id, email: invitation.email, role: invitation.role ?? null };
  const event: AuditRecord = {
    ...invitationEvent("invitation.accepted", invitation, details),
    actor: { type: "user", id: user.id, email: user.email },
  };
  const made: [string, Statement][] = [
    ["member", userInsertSql(user, "claimed")],
    ["event", auditInsertSql(ctx.audit, event, now, { from: "claimed" })],
  ];
  if (invitation.role) {
    const assignment = {
      id: newId(),
      tenantId: invitation.tenant,
      userId: user.id,
      role: invitation.role,
      grantedById: invitation.invitedBy,
      createdAt: now,
    };
    made.push(["assignment", roleAssignmentInsertSql(assignment, "claimed")]);
  }
  try {
    if (!(await claimForAcceptance(ctx.em, now, invitation.id, tokenHash, made))) {
      // Someone else accepted or revoked it first, or a resend replaced this token: report what it is now.
      assertAcceptable(await invitationByTokenHash(ctx.em, tokenHash), now);
      throw ValidationFailed.field("token", TOKEN_ACCEPTED);
    }
  } catch (error) {
    if (violatedUniqueConstraint(error) === "users_tenant_email_key") {
      throw ValidationFailed.field("email", EMAIL_IS_MEMBER);
    }
    throw error;
  }
  return userView(userRecordOf(user, invitation.role ? [invitation.role] : []));
}

function assertAcceptable(invitation: InvitationToAccept | null, now: Date): asserts invitation is InvitationToAccept {
  const status = invitation ? invitationStatus(invitation, now) : "revoked";
  if (status === "revoked") throw ValidationFailed.field("token", TOKEN_INVALID);
  if (status === "accepted") throw ValidationFailed.field("token", TOKEN_ACCEPTED);
  if (status === "expired") throw ValidationFailed.field("token", TOKEN_EXPIRED);
}
