import { INVITATION_STATES, ROLES } from "@tenantry/db";
import { z } from "zod";
import { AUDIT_ACTIONS } from "./domain/audit.js";
import { DEFAULT_CURSOR_PAGE_SIZE, MAX_PAGE_SIZE } from "./domain/paging.js";
import { UNBROADCAST_ACTIONS } from "./domain/webhooks.js";

/**
 * Every input and output, defined once. Messages are DRF's, so the REST shim
 * answers exactly as the old backend did and tRPC callers read the same words.
 */
export const REQUIRED = "This field is required.";
export const NOT_NULL = "This field may not be null.";
export const NOT_BLANK = "This field may not be blank.";

type Issue = { input?: unknown };
const typeMessage = (wrongType: string) => (issue: Issue) =>
  issue.input === undefined ? REQUIRED : issue.input === null ? NOT_NULL : wrongType;
const choiceMessage = (issue: Issue) =>
  issue.input === undefined
    ? REQUIRED
    : issue.input === null
      ? NOT_NULL
      : `"${typeof issue.input === "string" ? issue.input : JSON.stringify(issue.input)}" is not a valid choice.`;
/** DRF's words for input that is not an object at all. */
const objectMessage = (issue: Issue) => {
  const value = issue.input;
  if (value === undefined) return "No data provided";
  const kind = Array.isArray(value)
    ? "list"
    : value === null
      ? "NoneType"
      : typeof value === "string"
        ? "str"
        : typeof value === "number"
          ? Number.isInteger(value)
            ? "int"
            : "float"
          : typeof value === "boolean"
            ? "bool"
            : typeof value;
  return `Invalid data. Expected a dictionary, but got ${kind}.`;
};

/** A procedure's input object (unknown fields are dropped, never applied). */
export const fields = <Shape extends z.ZodRawShape>(shape: Shape) => z.object(shape, { error: objectMessage });

const maxLength = (max: number) => `Ensure this field has no more than ${max} characters.`;

export const NULL_CHARACTERS = "Null characters are not allowed.";
const surrogateMessage = (unit: string) =>
  `Surrogate characters are not allowed: U+${unit.charCodeAt(0).toString(16).toUpperCase()}.`;
/** Half of a UTF-16 surrogate pair without its other half. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Every string input is built on this, so no string PostgreSQL cannot hold
 * (a NUL, a lone surrogate) ever reaches it. Input is refused as DRF's
 * CharField refuses it, before any other check. A lookup key (`lookup`)
 * is not refused: it names nothing, so such characters become U+FFFD, which
 * no id or slug contains, and the lookup finds nothing, as for any unknown key.
 */
function text({ lookup = false }: { lookup?: boolean } = {}) {
  const base = z.string({ error: typeMessage("Not a valid string.") });
  if (lookup) return base.overwrite((value) => value.replaceAll("\0", "\uFFFD").replace(LONE_SURROGATE, "\uFFFD"));
  return base.superRefine((value, ctx) => {
    if (value.includes("\0")) ctx.addIssue({ code: "custom", message: NULL_CHARACTERS, input: value, continue: false });
    const surrogate = value.match(LONE_SURROGATE)?.[0];
    if (surrogate)
      ctx.addIssue({ code: "custom", message: surrogateMessage(surrogate), input: value, continue: false });
  });
}

/** A trimmed, non-blank string. */
export const requiredText = (max: number) => text().trim().min(1, NOT_BLANK).max(max, maxLength(max));
/** A trimmed string that may be blank (names). */
export const optionalText = (max: number) => text().trim().max(max, maxLength(max)).optional();
/** A trimmed, non-blank key that names something (an id or slug): it may name nothing, never fail the request. */
const lookupKey = (max: number) => text({ lookup: true }).trim().min(1, NOT_BLANK).max(max, maxLength(max));

/** Trimmed and lower-cased before it is checked, stored or compared. */
export const email = text()
  .trim()
  .toLowerCase()
  .min(1, NOT_BLANK)
  .max(254, maxLength(254))
  .pipe(z.email({ error: "Enter a valid email address." }));

/** Passwords are taken as given (no trimming); the policy lives in @tenantry/auth. */
export const password = text().min(1, NOT_BLANK).max(4096, maxLength(4096));

export const role = z.enum(ROLES, { error: choiceMessage });
export const id = z.uuid({ error: typeMessage("Must be a valid UUID.") });
/** A tenant named by id or slug. */
export const tenantRef = lookupKey(100);
/** An audit filter: a user's id or email, or an actor type. */
export const actorFilter = requiredText(320).describe("a user's id or email, or system, cli, anonymous");
export const invitationStatus = z.enum([...INVITATION_STATES, "expired"], { error: choiceMessage });
export const token = requiredText(512);

/**
 * DRF also takes numbers and booleans spelled as strings (query strings are
 * nothing else). Typed callers pass the real thing, so the types say so.
 */
function numericString(value: unknown): unknown {
  return typeof value === "string" && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
}

function booleanString(value: unknown): unknown {
  if (typeof value !== "string") return value;
  const word = value.trim().toLowerCase();
  if (["true", "1", "yes", "on"].includes(word)) return true;
  if (["false", "0", "no", "off"].includes(word)) return false;
  return value;
}

/**
 * A whole number within bounds; DRF also takes a numeric string. Every number
 * input is bounded, so nothing out of range (a date past year 9999, an offset
 * past PostgreSQL's bigint) reaches the domain or the database.
 */
export const wholeNumber = (min: number, max: number) =>
  z.preprocess(
    (value: number) => numericString(value),
    z
      .number({ error: typeMessage("A valid integer is required.") })
      .min(min, { message: `Ensure this value is greater than or equal to ${min}.`, abort: true })
      .max(max, { message: `Ensure this value is less than or equal to ${max}.`, abort: true })
      .int("A valid integer is required."),
  );

/** Whole days an invitation is extended by. */
export const days = wholeNumber(1, 30).describe("whole days, 1 to 30");

/** A purge's age limit: up to a hundred years. */
export const olderThanDays = wholeNumber(0, 36_500).describe("whole days, 0 to 36500");

/** The largest `limit` a caller may ask for (it is answered as 1000) and the largest `offset`. */
export const MAX_WINDOW_NUMBER = 2_147_483_647;

/** A window of a list: `limit` is capped at 1000 (as the REST API documents), `offset` counts from 0. */
export const pageWindow = {
  limit: wholeNumber(1, MAX_WINDOW_NUMBER)
    .transform((limit) => Math.min(limit, MAX_PAGE_SIZE))
    .describe(`items per page, at least 1; more than ${MAX_PAGE_SIZE} is answered as ${MAX_PAGE_SIZE}`),
  offset: wholeNumber(0, MAX_WINDOW_NUMBER).optional().default(0).describe(`items to skip, 0 to ${MAX_WINDOW_NUMBER}`),
};

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ count: z.number().int().describe("items in the whole list"), results: z.array(item) });

/**
 * A page's `next` or `previous`, opaque. Like a lookup key it may name
 * nothing: characters PostgreSQL cannot hold become U+FFFD, which no cursor
 * contains, so such a cursor is refused as any other malformed one
 * (`Invalid cursor`); nothing of it reaches the database undecoded.
 */
export const cursor = text({ lookup: true }).describe(
  "a page's `next` or `previous`, as given; absent or empty: the first page",
);

/** A window of a list by cursor: where (a cursor) and how many (`limit`, capped at 1000, DRF's page size by default). */
export const cursorWindow = {
  cursor: cursor.optional(),
  limit: wholeNumber(1, MAX_WINDOW_NUMBER)
    .transform((limit) => Math.min(limit, MAX_PAGE_SIZE))
    .optional()
    .default(DEFAULT_CURSOR_PAGE_SIZE)
    .describe(
      `items per page, at least 1 (default ${DEFAULT_CURSOR_PAGE_SIZE}); more than ${MAX_PAGE_SIZE} is answered as ${MAX_PAGE_SIZE}`,
    ),
};

/** DRF's CursorPagination envelope: no count; `next` and `previous` are cursors to pass back as `cursor`. */
export const cursorPageOf = <T extends z.ZodType>(item: T) =>
  z.object({
    next: z.string().nullable().describe("the cursor of the next page; null on the last page"),
    previous: z.string().nullable().describe("the cursor of the previous page; null on the first page"),
    results: z.array(item),
  });

/** An instant, as ISO 8601 (`2026-11-29T10:00:00Z`) or a date (`2026-11-29`, midnight UTC). */
export const instant = text()
  .trim()
  .refine(
    (value) => /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) && !Number.isNaN(Date.parse(value)),
    {
      message:
        "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
    },
  )
  .transform((value) => new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value));

export const auditAction = z.enum(AUDIT_ACTIONS, { error: choiceMessage });

/** The audit trail's filters: the same for a tenant's ADMINs and for platform staff. */
export const auditFilters = {
  action: auditAction.optional(),
  actor: actorFilter.optional(),
  since: instant.optional(),
  until: instant.optional(),
};

/** An invitation list's filter: what the status reads as now (`expired` is derived). */
export const invitationFilters = { status: invitationStatus.optional() };

/** A role-assignment list's filters. */
export const roleAssignmentFilters = { userId: id.optional(), role: role.optional() };

/** DRF's BooleanField: JSON booleans, and the usual spellings in strings. */
export const flag = z.preprocess(
  (value: boolean) => booleanString(value),
  z.boolean({ error: typeMessage("Must be a valid boolean.") }),
);

// Outputs.
const timestamp = z.string().describe("ISO 8601, UTC");

export const tenantOutput = z.object({ id: z.uuid(), name: z.string(), slug: z.string(), createdAt: timestamp });
export const createdTenantOutput = tenantOutput.extend({ adminUserId: z.uuid() });

export const userOutput = z.object({
  id: z.uuid(),
  email: z.string(),
  firstName: z.string(),
  lastName: z.string(),
  tenantId: z.uuid().nullable(),
  roles: z.array(role),
  isSuperuser: z.boolean(),
  isActive: z.boolean(),
  dateJoined: timestamp,
});

export const loginOutput = z.object({ token: z.string(), expiresAt: timestamp, user: userOutput });

export const invitationOutput = z.object({
  id: z.uuid(),
  tenantId: z.uuid(),
  email: z.string(),
  role: role.nullable(),
  status: invitationStatus,
  invitedById: z.uuid().nullable(),
  createdAt: timestamp,
  expiresAt: timestamp,
  acceptedAt: timestamp.nullable(),
  emailDelivery: z.enum(["pending", "sent", "failed"]),
});
export const createdInvitationOutput = invitationOutput.extend({
  token: z.string().describe("The invitation token; shown only here, once."),
});

export const roleAssignmentOutput = z.object({
  id: z.uuid(),
  userId: z.uuid(),
  role,
  tenantId: z.uuid(),
  grantedById: z.uuid().nullable(),
  createdAt: timestamp,
});

export const auditEventOutput = z.object({
  id: z.uuid(),
  occurredAt: timestamp,
  actorType: z.enum(["user", "anonymous", "system", "cli"]),
  actorId: z.uuid().nullable(),
  actorEmail: z.string().nullable(),
  tenantId: z.uuid().nullable(),
  action: auditAction,
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
});

export const purgeOutput = z.object({
  purged: z.number().int().describe("invitations deleted (or that would be, on a dry run)"),
  dryRun: z.boolean(),
  cutoff: timestamp.describe("expired or revoked before this instant"),
});

export const sessionOutput = z.object({
  id: z.string().describe("The session's id (not its token)"),
  createdAt: timestamp,
  expiresAt: timestamp,
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  current: z.boolean().describe("The session this request came with"),
});

/** A session's id, as `sessions` lists it. */
export const sessionId = requiredText(64);

export const invitationPreviewOutput = z.object({
  status: z.enum(["pending", "expired", "accepted"]),
  email: z.string().optional().describe("Only while pending, as are the fields below"),
  role: role.nullable().optional(),
  tenant: z.object({ name: z.string(), slug: z.string() }).optional(),
  invitedByName: z.string().nullable().optional().describe("The inviter's full name, or email"),
  expiresAt: timestamp.optional(),
});

/** One row of a bulk invite, checked on its own so that a bad row never fails the others. */
export const bulkInvitationRow = fields({ email, role: role.nullable().optional() });
export const bulkInvitations = z
  .array(z.unknown(), { error: typeMessage('Expected a list of items but got type "dict".') })
  .min(1, "This list may not be empty.")
  .max(100, "Ensure this field has no more than 100 elements.");

export const bulkInviteOutput = z.object({
  created: z.number().int(),
  failed: z.number().int(),
  results: z.array(
    z.object({
      email: z.string(),
      invitation: createdInvitationOutput.optional().describe("The created invitation, with its token; or"),
      errors: z.record(z.string(), z.array(z.string())).optional().describe("why this row was not invited"),
    }),
  ),
});

// Webhooks (superusers' `ops`).
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
