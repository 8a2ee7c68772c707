import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Role } from "@tenantry/db";
import type { Logger } from "../logger.js";

/** What `sendInvitationEmail` receives for every new or re-sent invitation. */
export interface InvitationEmail {
  invitationId: string;
  /** The recipient's address. */
  to: string;
  tenant: { id: string; name: string; slug: string };
  role: Role | null;
  /** ISO 8601. */
  expiresAt: string;
  /** The link the invitee follows; it carries the token, so treat it as a secret. */
  acceptUrl: string;
  /** How many times delivery has been tried, this one included. */
  attempt: number;
}

export type InvitationEmailHook = (email: InvitationEmail) => unknown | Promise<unknown>;

/**
 * The default hook writes one structured log line, without the link (it holds
 * the token). Deployments send real email by setting `INVITATION_EMAIL_HOOK`.
 */
export function logInvitationEmail(logger: Logger): InvitationEmailHook {
  return (email) => {
    logger.info(
      {
        event: "invitation_email",
        invitationId: email.invitationId,
        to: email.to,
        tenant: email.tenant.slug,
        role: email.role,
        expiresAt: email.expiresAt,
        acceptUrl: "[redacted: holds the token]",
      },
      "invitation email (default hook: logged, not sent; set INVITATION_EMAIL_HOOK to deliver)",
    );
  };
}

/**
 * Loads a deployment's hook: a module path (absolute, or relative to the
 * working directory) whose `sendInvitationEmail` (or default) export is a
 * function taking an `InvitationEmail`.
 */
export async function loadInvitationEmailHook(modulePath: string): Promise<InvitationEmailHook> {
  const module = (await import(pathToFileURL(resolve(modulePath)).href)) as Record<string, unknown>;
  const hook = module.sendInvitationEmail ?? module.default;
  if (typeof hook !== "function") {
    throw new Error(
      `INVITATION_EMAIL_HOOK=${modulePath} must export a function named sendInvitationEmail (or a default export).`,
    );
  }
  return hook as InvitationEmailHook;
}
