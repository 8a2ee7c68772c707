import { Writable } from "node:stream";
import { createLogger, type Logger } from "../../logger.js";
import type { Harness } from "../../test-support/harness.js";
import type { InvitationEmail } from "../hook.js";

/** What the email outbox tests (mail/*.test.ts) share: the delivery columns, the token of a link, a captured log, a gate. */

export const DAY_MS = 86_400_000;

export interface DeliveryRow {
  email_delivery: string;
  delivery_attempts: number;
  delivery_token_ciphertext: string | null;
  delivery_last_error: string | null;
  token_hash: string;
  state: string;
}

export async function deliveryRow(h: Harness, id: string): Promise<DeliveryRow> {
  const [row] = await h.db.orm.em
    .fork()
    .getConnection()
    .execute<DeliveryRow[]>(
      `select email_delivery, delivery_attempts, delivery_token_ciphertext, delivery_last_error, token_hash, state
         from invitations where id = ?`,
      [id],
    );
  if (!row) throw new Error(`no invitation ${id}`);
  return row;
}

/** The token an accept link carries. */
export function tokenOf(email: InvitationEmail | undefined): string | null {
  return email ? new URLSearchParams(new URL(email.acceptUrl).hash.slice(1)).get("token") : null;
}

/** A logger whose lines land in `lines` (parsed) and `text` (raw). */
export function capturedLogger(): { logger: Logger; text: () => string; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const logger = createLogger(
    "debug",
    new Writable({
      write(chunk, _encoding, done) {
        chunks.push(chunk.toString());
        done();
      },
    }) as unknown as Parameters<typeof createLogger>[1],
  );
  const text = () => chunks.join("");
  return {
    logger,
    text,
    lines: () =>
      text()
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** A promise and the function that settles it. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}
