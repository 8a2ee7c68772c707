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

/** What `sendPasswordResetEmail` receives for every password reset requested. */
export interface PasswordResetEmail {
  passwordResetId: string;
  /** The account's address. */
  to: string;
  /** The account's tenant; null for platform (superuser) accounts. */
  tenant: { id: string; name: string; slug: string } | null;
  /** ISO 8601; the link works once, until then. */
  expiresAt: string;
  /** The link the user follows; it carries the token, so treat it as a secret. */
  resetUrl: string;
  /** How many times delivery has been tried, this one included. */
  attempt: number;
}

export type PasswordResetEmailHook = (email: PasswordResetEmail) => unknown | Promise<unknown>;

/** The deployment's email senders, one per kind of email. */
export interface EmailHooks {
  sendInvitationEmail: InvitationEmailHook;
  sendPasswordResetEmail: PasswordResetEmailHook;
}

const NOT_SENT = "set EMAIL_HOOK to deliver";

/**
 * The default hook writes one structured log line, without the link (it holds
 * the token). Deployments send real email by setting `EMAIL_HOOK`.
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

/** As `logInvitationEmail`, for password resets: one line, never the link. */
export function logPasswordResetEmail(logger: Logger): PasswordResetEmailHook {
  return (email) => {
    logger.info(
      {
        event: "password_reset_email",
        passwordResetId: email.passwordResetId,
        to: email.to,
        tenant: email.tenant?.slug ?? null,
        expiresAt: email.expiresAt,
        resetUrl: "[redacted: holds the token]",
      },
      `password reset email (default hook: logged, not sent; ${NOT_SENT})`,
    );
  };
}

async function importHookModule(modulePath: string): Promise<Record<string, unknown>> {
  return (await import(pathToFileURL(resolve(modulePath)).href)) as Record<string, unknown>;
}

/**
 * Loads a deployment's hook: a module path (absolute, or relative to the
 * working directory) whose `sendInvitationEmail` (or default) export is a
 * function taking an `InvitationEmail`.
 */
export async function loadInvitationEmailHook(modulePath: string): Promise<InvitationEmailHook> {
  const module = await importHookModule(modulePath);
  const hook = module.sendInvitationEmail ?? module.default;
  if (typeof hook !== "function") {
    throw new Error(
      `INVITATION_EMAIL_HOOK=${modulePath} must export a function named sendInvitationEmail (or a default export).`,
    );
  }
  return hook as InvitationEmailHook;
}

/**
 * Loads the `EMAIL_HOOK` module: it exports `sendInvitationEmail` (or a
 * default export, the older form) and/or `sendPasswordResetEmail`. A kind
 * it does not export is logged as the default hook does; exporting neither
 * is a configuration mistake.
 */
export async function loadEmailHooks(modulePath: string, logger: Logger): Promise<EmailHooks> {
  const module = await importHookModule(modulePath);
  const invitation = module.sendInvitationEmail ?? module.default;
  const reset = module.sendPasswordResetEmail;
  const isFunction = (value: unknown) => typeof value === "function";
  if ((invitation !== undefined && !isFunction(invitation)) || (reset !== undefined && !isFunction(reset))) {
    throw new Error(`EMAIL_HOOK=${modulePath}: sendInvitationEmail and sendPasswordResetEmail must be functions.`);
  }
  if (!isFunction(invitation) && !isFunction(reset)) {
    throw new Error(
      `EMAIL_HOOK=${modulePath} must export a function named sendInvitationEmail or sendPasswordResetEmail (or a default export).`,
    );
  }
  return {
    sendInvitationEmail: isFunction(invitation) ? (invitation as InvitationEmailHook) : logInvitationEmail(logger),
    sendPasswordResetEmail: isFunction(reset) ? (reset as PasswordResetEmailHook) : logPasswordResetEmail(logger),
  };
}

/** The log-only hooks, used when no `EMAIL_HOOK` is set. */
export function logEmailHooks(logger: Logger): EmailHooks {
  return { sendInvitationEmail: logInvitationEmail(logger), sendPasswordResetEmail: logPasswordResetEmail(logger) };
}
