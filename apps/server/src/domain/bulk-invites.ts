import { createInvitationToken } from "@tenantry/auth";
import { Invitation, newId, type Role } from "@tenantry/db";
import { recordAudit } from "./audit.js";
import type { TenantScope } from "./caller.js";
import { DAY_MS } from "./clock.js";
import type { ServiceContext } from "./context.js";
import type { FieldErrors } from "./errors.js";
import { invitationRow, invitationView, revokePending } from "./invitation-records.js";
import { DEFAULT_INVITATION_DAYS, EMAIL_IS_MEMBER } from "./invitations.js";
import { lockTenant } from "./locks.js";
import { requireTenant } from "./scope.js";
import type { InvitationView } from "./views.js";

export const MAX_BULK_INVITATIONS = 100;
const REPEATED = "This email appears more than once in this request.";

/** One row of a bulk invite: valid input, or what was wrong with it (from the transport's validation). */
export type BulkRow = { email: string; role: Role | null } | { email: string; errors: FieldErrors };

export type BulkOutcome =
  | { email: string; invitation: InvitationView & { token: string } }
  | { email: string; errors: FieldErrors };

export interface BulkResult {
  created: number;
  failed: number;
  /** In input order. */
  results: BulkOutcome[];
}

/**
 * Invites many addresses at once, each exactly as a single invite would be
 * (a pending invitation for the address is replaced; its email goes through
 * the outbox), in one transaction whose statements do not grow with the
 * rows. A row that cannot be invited (invalid, already a member, repeated in
 * the batch) is reported and never stops the others.
 */
export async function inviteMany(
  ctx: ServiceContext,
  scope: TenantScope,
  rows: BulkRow[],
  invitedById: string | null,
): Promise<BulkResult> {
  const tenantId = requireTenant(scope);
  const results: BulkOutcome[] = new Array(rows.length);
  const seen = new Set<string>();
  const candidates: { index: number; email: string; role: Role | null }[] = [];
  rows.forEach((row, index) => {
    if ("errors" in row) results[index] = row;
    else if (seen.has(row.email)) results[index] = { email: row.email, errors: { email: [REPEATED] } };
    else {
      seen.add(row.email);
      candidates.push({ index, email: row.email, role: row.role });
    }
  });
  if (candidates.length > 0) {
    const now = ctx.clock.now();
    const expiresAt = new Date(now.getTime() + DEFAULT_INVITATION_DAYS * DAY_MS);
    const created = await ctx.em.transactional(async (em) => {
      const connection = em.getConnection();
      const tx = em.getTransactionContext();
      await lockTenant(em, tenantId);
      const emails = candidates.map((candidate) => candidate.email);
      const list = emails.map(() => "?").join(", ");
      const members = await connection.execute<{ email: string }[]>(
        `select lower(email) as email from users where tenant_id = ? and lower(email) in (${list})`,
        [tenantId, ...emails],
        "all",
        tx,
      );
      const memberEmails = new Set(members.map((row) => row.email));
      const invitable = candidates.filter((candidate) => {
        if (!memberEmails.has(candidate.email)) return true;
        results[candidate.index] = { email: candidate.email, errors: { email: [EMAIL_IS_MEMBER] } };
        return false;
      });
      if (invitable.length === 0) return [];
      const replaced = await revokePending(em, now, {
        tenantId,
        emails: invitable.map((candidate) => candidate.email),
      });
      const made = invitable.map((candidate) => {
        const { token, tokenHash } = createInvitationToken();
        const invitation = em.create(Invitation, {
          id: newId(),
          tenant: tenantId,
          email: candidate.email,
          role: candidate.role,
          tokenHash,
          state: "pending",
          invitedBy: invitedById,
          createdAt: now,
          expiresAt,
          acceptedAt: null,
          emailDelivery: "pending",
          deliveryAttempts: 0,
          deliveryNextAttemptAt: now,
          deliveryTokenCiphertext: ctx.mailbox.seal(token),
        });
        recordAudit(
          em,
          ctx.audit,
          {
            action: "invitation.created",
            tenantId,
            target: { type: "invitation", id: invitation.id },
            details: {
              email: candidate.email,
              role: candidate.role,
              replaced: replaced.filter((row) => row.email === candidate.email).map((row) => row.id),
              bulk: true,
            },
          },
          now,
        );
        return { candidate, invitation, token };
      });
      await em.flush();
      return made;
    });
    for (const { candidate, invitation, token } of created) {
      results[candidate.index] = {
        email: candidate.email,
        invitation: { ...invitationView(invitationRow(invitation, now)), token },
      };
    }
    if (created.length > 0) ctx.mailbox.notify("invitation");
  }
  const createdCount = results.filter((result) => "invitation" in result).length;
  return { created: createdCount, failed: results.length - createdCount, results };
}
