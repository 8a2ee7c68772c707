import { z } from "zod";
import { AUDIT_ACTIONS } from "../domain/audit.js";
import { UNBROADCAST_ACTIONS } from "../domain/webhooks.js";
import { requiredText } from "./schemas.js";

/** Inputs and outputs of the webhook procedures (superusers' `ops`). */

const BROADCAST_ACTIONS = AUDIT_ACTIONS.filter((action) => !UNBROADCAST_ACTIONS.includes(action));

export const webhookUrl = requiredText(2000)
  .refine((value) => URL.canParse(value), { message: "Enter a valid URL." })
  .refine((value) => !URL.canParse(value) || /^https?:$/.test(new URL(value).protocol), {
    message: "Only http and https URLs can receive webhooks.",
  })
  .describe("Where events are POSTed: an http(s) URL the operator chose");

export const webhookEventType = z
  .enum(BROADCAST_ACTIONS as [string, ...string[]], {
    error: (issue) => `"${String(issue.input)}" is not a valid choice.`,
  })
  .describe("An event type (an audit action such as tenant.created)");

export const webhookEventTypes = z
  .array(webhookEventType)
  .max(BROADCAST_ACTIONS.length)
  .nullable()
  .describe("Only these event types are sent; null or empty: every type");

export const webhookDeliveryStatus = z.enum(["pending", "delivered", "failed"]);

const timestamp = z.string().describe("ISO 8601, UTC");

export const webhookEndpointOutput = z.object({
  id: z.uuid(),
  url: z.string(),
  eventTypes: z.array(z.string()).nullable().describe("the event types sent; null: every type"),
  enabled: z.boolean().describe("false once its deliveries kept failing; a successful test enables it again"),
  disabledReason: z.string().nullable(),
  createdAt: timestamp,
});

export const createdWebhookEndpointOutput = webhookEndpointOutput.extend({
  secret: z.string().describe("The whsec_ signing secret; shown only here, once."),
});

export const webhookAttemptOutput = z.object({
  attempt: z.number().int().describe("1 for the first try"),
  attemptedAt: timestamp,
  succeeded: z.boolean(),
  responseStatus: z.number().int().nullable().describe("the endpoint's HTTP status; null when none came"),
  latencyMs: z.number().int(),
  error: z.string().nullable(),
});

export const webhookDeliveryOutput = z.object({
  id: z.uuid().describe("sent as the webhook-id header, the same on every retry"),
  endpointId: z.uuid(),
  eventId: z.uuid().describe("the event's id (the audit event)"),
  eventType: z.string(),
  tenantId: z.uuid().nullable(),
  status: webhookDeliveryStatus,
  attempts: z.number().int(),
  nextAttemptAt: timestamp.nullable().describe("when a pending delivery is tried next"),
  createdAt: timestamp,
  deliveredAt: timestamp.nullable(),
  lastError: z.string().nullable(),
  attemptLog: z.array(webhookAttemptOutput).describe("every attempt, oldest first"),
});
