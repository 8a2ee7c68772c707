import { Webhook } from "standardwebhooks";

/**
 * The Standard Webhooks headers for one attempt, signed by the maintained
 * implementation: `webhook-signature` is `v1,` and the base64 HMAC-SHA256,
 * keyed by the secret's base64 bytes, of `${id}.${timestamp}.${body}`.
 */
export function signedHeaders(secret: string, messageId: string, at: Date, body: string): Record<string, string> {
  return {
    "webhook-id": messageId,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": new Webhook(secret).sign(messageId, at, body),
  };
}
