import { hashInvitationToken } from "@tenantry/auth";
import { isoTimestamp, type Role } from "@tenantry/db";
import type { ServiceContext } from "./context.js";
import { NotFound } from "./errors.js";

/** What the landing page of an accept link shows; only a pending invitation says more than its status. */
export type InvitationPreview =
  | {
      status: "pending";
      email: string;
      role: Role | null;
      tenant: { name: string; slug: string };
      invitedByName: string | null;
      expiresAt: string;
    }
  | { status: "expired" | "accepted" };

interface PreviewRow {
  state: "pending" | "accepted" | "revoked";
  expired: boolean;
  email: string;
  role: Role | null;
  expires_at: string;
  tenant_name: string;
  tenant_slug: string;
  inviter_first_name: string | null;
  inviter_last_name: string | null;
  inviter_email: string | null;
}

/**
 * Reads an invitation by its token and changes nothing. An unknown or
 * revoked token is not found, alike: a revoked invitation reveals nothing.
 */
export async function previewInvitation(
  ctx: Pick<ServiceContext, "em" | "clock">,
  token: string,
): Promise<InvitationPreview> {
  const rows = await ctx.em.getConnection().execute<PreviewRow[]>(
    `select i.state, i.expires_at <= ? as expired, i.email, i.role, ${isoTimestamp("i.expires_at")} as expires_at,
       t.name as tenant_name, t.slug as tenant_slug,
       u.first_name as inviter_first_name, u.last_name as inviter_last_name, u.email as inviter_email
     from invitations i join tenants t on t.id = i.tenant_id left join users u on u.id = i.invited_by_id
     where i.token_hash = ?`,
    [ctx.clock.now(), hashInvitationToken(token)],
  );
  const row = rows[0];
  if (!row || row.state === "revoked") throw new NotFound();
  if (row.state === "accepted") return { status: "accepted" };
  if (row.expired) return { status: "expired" };
  const fullName = `${row.inviter_first_name ?? ""} ${row.inviter_last_name ?? ""}`.trim();
  return {
    status: "pending",
    email: row.email,
    role: row.role,
    tenant: { name: row.tenant_name, slug: row.tenant_slug },
    invitedByName: fullName || row.inviter_email || null,
    expiresAt: row.expires_at,
  };
}
