import type { EntityManager } from "@tenantry/db";
import type { AuditContext } from "./audit.js";
import type { Clock } from "./clock.js";

/** The emails the outbox sends, each waiting on the rows it is about. */
export type MailKind = "invitation" | "password_reset";

/** What the invitation services need of email delivery. */
export interface InvitationMailbox {
  /** Encrypts a plain token so it can wait in the database until delivered. */
  seal(token: string): string;
  /** Says that new deliveries of this kind were committed; delivery happens off the request path. */
  notify(kind: MailKind): void;
}

/** Everything a domain service works with; it knows nothing of HTTP. */
export interface ServiceContext {
  /** The request's own EntityManager fork. */
  em: EntityManager;
  clock: Clock;
  mailbox: InvitationMailbox;
  /** Who acts, and from where: every change is recorded with it. */
  audit: AuditContext;
}
