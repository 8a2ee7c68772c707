import { createHmac, timingSafeEqual } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { insertAudit, SYSTEM } from "./domain/audit.js";
import { failure, fieldErrorsOf } from "./test-support/errors.js";
import { createHarness, type Harness, signUp, superuser, unique } from "./test-support/harness.js";
import { type Received, type Receiver, startReceiver } from "./test-support/webhook-receiver.js";
import { DEFAULT_WEBHOOK_RETRY_DELAYS_MS } from "./webhooks/delivery.js";
import { signedHeaders } from "./webhooks/signing.js";

/**
 * Webhooks for provisioners (issue #14): every audit event becomes a signed
 * POST to each matching endpoint, enqueued in the change's own transaction,
 * delivered after commit with retries, in order per tenant, every attempt
 * recorded. A real HTTP receiver on 127.0.0.1 takes the deliveries.
 */

interface EventBody {
  id: string;
  type: string;
  created_at: string;
  tenant: string | null;
  data: Record<string, unknown>;
}

const bodyOf = (request: Received) => JSON.parse(request.body) as EventBody;

/** The Standard Webhooks check, recomputed from the specification with node:crypto alone. */
function independentlyVerified(secret: string, request: Received): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const signed = `${request.headers["webhook-id"]}.${request.headers["webhook-timestamp"]}.${request.body}`;
  const expected = createHmac("sha256", key).update(signed, "utf8").digest();
  return (request.headers["webhook-signature"] ?? "").split(" ").some((candidate) => {
    const [version, signature] = candidate.split(",");
    const given = Buffer.from(signature ?? "", "base64");
    return version === "v1" && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

describe("Standard Webhooks signing", () => {
  it("matches the specification's test vector", () => {
    const headers = signedHeaders(
      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      "msg_p5jXN8AQM9LWM0D4loKWxJek",
      new Date(1614265330 * 1000),
      '{"test": 2432232314}',
    );
    expect(headers).toEqual({
      "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
      "webhook-timestamp": "1614265330",
      "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    });
  });

  it("retries back off over about a day", () => {
    const total = DEFAULT_WEBHOOK_RETRY_DELAYS_MS.reduce((sum, delay) => sum + delay, 0);
    expect(total).toBeGreaterThan(20 * 3_600_000);
    expect(total).toBeLessThan(26 * 3_600_000);
  });
});

describe("webhook delivery", () => {
  let h: Harness;
  let receiver: Receiver;
  let staff: Awaited<ReturnType<typeof superuser>>;
  const endpoints: string[] = [];

  beforeAll(async () => {
    h = await createHarness({ throttle: false, webhookRetryDelaysMs: [5_000, 30_000, 120_000], webhookTimeoutMs: 500 });
    receiver = await startReceiver();
    staff = await superuser(h);
  });
  afterAll(async () => {
    await receiver?.close();
    await h?.close();
  });
  beforeEach(async () => {
    // Each test starts with no endpoint and an empty receiver that answers 200.
    for (const id of endpoints.splice(0)) await staff.caller.ops.removeWebhook({ id }).catch(() => {});
    receiver.received.length = 0;
    receiver.respond = () => 200;
  });

  async function addEndpoint(eventTypes?: string[], url = receiver.url) {
    const created = await staff.caller.ops.createWebhook({ url, eventTypes: eventTypes ?? null });
    endpoints.push(created.id);
    return created;
  }

  function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []) {
    return h.db.orm.em.fork().getConnection().execute<T[]>(query, params);
  }

  it("a tenant sign-up is one signed tenant.created delivery carrying admin_user_id", async () => {
    const endpoint = await addEndpoint();
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const { tenant } = await signUp(h);
    await h.deliverWebhooks();

    const created = receiver.received.filter((request) => bodyOf(request).type === "tenant.created");
    expect(created).toHaveLength(1);
    const request = created[0] as Received;
    const body = bodyOf(request);
    expect(body).toEqual({
      id: expect.any(String),
      type: "tenant.created",
      created_at: tenant.createdAt,
      tenant: tenant.id,
      data: {
        tenant: { id: tenant.id, name: tenant.name, slug: tenant.slug, created_at: tenant.createdAt },
        admin_user_id: tenant.adminUserId,
        admin_email: expect.stringContaining("@"),
      },
    });
    expect(request.headers["content-type"]).toBe("application/json");
    // The maintained verifier and an independent recomputation both accept it; a wrong secret does not.
    // The verifier checks the timestamp against its own clock: give it the test's.
    vi.useFakeTimers({ toFake: ["Date"], now: h.clock.now() });
    try {
      expect(new Webhook(endpoint.secret).verify(request.body, request.headers)).toEqual(body);
    } finally {
      vi.useRealTimers();
    }
    expect(independentlyVerified(endpoint.secret, request)).toBe(true);
    expect(independentlyVerified(`whsec_${Buffer.alloc(32, 7).toString("base64")}`, request)).toBe(false);
    expect(Number(request.headers["webhook-timestamp"])).toBe(Math.floor(h.clock.now().getTime() / 1000));

    const deliveries = await staff.caller.ops.webhookDeliveries({ id: endpoint.id });
    const delivery = deliveries.find((d) => d.eventId === body.id);
    expect(delivery).toMatchObject({
      id: request.headers["webhook-id"],
      eventType: "tenant.created",
      tenantId: tenant.id,
      status: "delivered",
      attempts: 1,
      lastError: null,
      attemptLog: [{ attempt: 1, succeeded: true, responseStatus: 200, latencyMs: expect.any(Number), error: null }],
    });
    // The secret rests sealed; listing never shows it.
    const [row] = await sql<{ secret_ciphertext: string }>(
      "select secret_ciphertext from webhook_endpoints where id = ?",
      [endpoint.id],
    );
    expect(row?.secret_ciphertext).toMatch(/^v1\./);
    expect(row?.secret_ciphertext).not.toContain(endpoint.secret.slice(6));
    expect(JSON.stringify(await staff.caller.ops.webhooks())).not.toContain(endpoint.secret.slice(6));
  });

  it("a receiver that fails three times gets the event on the fourth try, same webhook-id and body", async () => {
    await addEndpoint(["invitation.created"]);
    const { admin } = await signUp(h);
    receiver.respond = (_request, index) => (index < 3 ? 503 : 200);
    const invitation = await admin.invite.create({ email: `${unique("retry")}@example.com`, role: null });
    for (const delay of [0, 5_000, 30_000, 120_000]) {
      h.clock.advance(delay);
      expect(await h.deliverWebhooks()).toBe(1);
      // Not due again until the next delay has passed.
      expect(await h.deliverWebhooks()).toBe(0);
    }
    expect(receiver.received.map((request) => request.status)).toEqual([503, 503, 503, 200]);
    expect(new Set(receiver.received.map((request) => request.headers["webhook-id"])).size).toBe(1);
    expect(new Set(receiver.received.map((request) => request.body)).size).toBe(1);
    expect(bodyOf(receiver.received[0] as Received).data).toMatchObject({
      target: { type: "invitation", id: invitation.id },
      email: invitation.email,
      role: null,
      replaced: [],
    });
    const [delivery] = await staff.caller.ops.webhookDeliveries({ id: endpoints[0] as string });
    expect(delivery).toMatchObject({ status: "delivered", attempts: 4 });
    expect(delivery?.attemptLog.map((a) => [a.attempt, a.succeeded, a.responseStatus])).toEqual([
      [1, false, 503],
      [2, false, 503],
      [3, false, 503],
      [4, true, 200],
    ]);
    expect(delivery?.attemptLog[0]?.error).toBe("The endpoint answered HTTP 503.");
  });

  it("after the last retry the delivery fails and the endpoint is disabled with the reason; a test enables it again", async () => {
    const endpoint = await addEndpoint(["invitation.created"]);
    const { admin, tenant } = await signUp(h);
    receiver.respond = () => 500;
    await admin.invite.create({ email: `${unique("doomed")}@example.com`, role: null });
    for (const delay of [0, 5_000, 30_000, 120_000]) {
      h.clock.advance(delay);
      await h.deliverWebhooks();
    }
    expect(receiver.received).toHaveLength(4);
    const [listed] = (await staff.caller.ops.webhooks()).filter((e) => e.id === endpoint.id);
    expect(listed).toMatchObject({
      enabled: false,
      disabledReason: expect.stringContaining("after 4 failed attempts"),
    });
    expect(listed?.disabledReason).toContain("HTTP 500");
    const [failed] = await staff.caller.ops.webhookDeliveries({ id: endpoint.id });
    expect(failed).toMatchObject({ status: "failed", attempts: 4, nextAttemptAt: null });
    const disabled = await sql(
      "select actor_type, details from audit_events where action = 'webhook.disabled' and target_id = ?",
      [endpoint.id],
    );
    expect(disabled).toHaveLength(1);

    // A disabled endpoint gets no new deliveries.
    await admin.invite.create({ email: `${unique("while-off")}@example.com`, role: null });
    h.clock.advance(DEFAULT_WEBHOOK_RETRY_DELAYS_MS[8] ?? 0);
    expect(await h.deliverWebhooks()).toBe(0);

    // The receiver is fixed; a test reaches it and brings the endpoint back.
    receiver.respond = () => 200;
    const test = await staff.caller.ops.testWebhook({ id: endpoint.id });
    expect(test).toMatchObject({ eventType: "webhook.tested", status: "delivered", attempts: 1, tenantId: null });
    expect(bodyOf(receiver.received.at(-1) as Received)).toMatchObject({ type: "webhook.tested", tenant: null });
    expect((await staff.caller.ops.webhooks()).find((e) => e.id === endpoint.id)).toMatchObject({
      enabled: true,
      disabledReason: null,
    });
    const afterwards = await admin.invite.create({ email: `${unique("back")}@example.com`, role: null });
    await h.deliverWebhooks();
    expect(bodyOf(receiver.received.at(-1) as Received)).toMatchObject({
      type: "invitation.created",
      tenant: tenant.id,
      data: { target: { id: afterwards.id } },
    });
  });

  it("the filter sends only the chosen event types", async () => {
    const invitationsOnly = await addEndpoint(["invitation.created", "invitation.accepted"]);
    const everything = await addEndpoint();
    const { admin } = await signUp(h);
    await admin.invite.create({ email: `${unique("filtered")}@example.com`, role: "VIEWER" });
    await h.deliverWebhooks();
    const types = async (id: string) =>
      (await staff.caller.ops.webhookDeliveries({ id })).map((delivery) => delivery.eventType).sort();
    expect(await types(invitationsOnly.id)).toEqual(["invitation.created"]);
    expect(await types(everything.id)).toEqual(["auth.login_succeeded", "invitation.created", "tenant.created"]);
    expect(receiver.received).toHaveLength(4);
  });

  it("a rolled-back change emits nothing; the same change committed emits one delivery", async () => {
    const endpoint = await addEndpoint();
    const record = { action: "role.granted" as const, tenantId: null, details: { probe: unique("rollback") } };
    await expect(
      h.db.orm.em.fork().transactional(async (em) => {
        await insertAudit(em, SYSTEM, record, h.clock.now());
        throw new Error("the change failed after its event was written");
      }),
    ).rejects.toThrow("the change failed");
    expect(await h.deliverWebhooks()).toBe(0);
    expect(await staff.caller.ops.webhookDeliveries({ id: endpoint.id })).toEqual([]);

    await h.db.orm.em.fork().transactional((em) => insertAudit(em, SYSTEM, record, h.clock.now()));
    expect(await h.deliverWebhooks()).toBe(1);
    expect(receiver.received.map((request) => bodyOf(request).data.probe)).toEqual([record.details.probe]);
  });

  it("keeps order per tenant: a later event waits while an earlier one is retried; other tenants go on", async () => {
    await addEndpoint(["invitation.created"]);
    const a = await signUp(h);
    const b = await signUp(h);
    const stuck = new Set<string>();
    receiver.respond = (request) => {
      const body = bodyOf(request);
      // A's first invitation fails once.
      if (body.tenant === a.tenant.id && stuck.size === 0) {
        stuck.add(body.id);
        return 500;
      }
      return 200;
    };
    const sent: Record<string, string[]> = { [a.tenant.id]: [], [b.tenant.id]: [] };
    for (let i = 0; i < 5; i++) {
      for (const tenant of [a, b]) {
        const invitation = await tenant.admin.invite.create({ email: `${unique("order")}@example.com`, role: null });
        sent[tenant.tenant.id]?.push(invitation.id);
      }
    }
    await h.deliverWebhooks();
    const targets = (tenantId: string) =>
      receiver.received
        .filter((request) => request.status === 200 && bodyOf(request).tenant === tenantId)
        .map((request) => (bodyOf(request).data.target as { id: string }).id);
    // B is delivered in full and in order; A waits behind its failed first event.
    expect(targets(b.tenant.id)).toEqual(sent[b.tenant.id]);
    expect(targets(a.tenant.id)).toEqual([]);
    h.clock.advance(5_000);
    await h.deliverWebhooks();
    expect(targets(a.tenant.id)).toEqual(sent[a.tenant.id]);
    expect(receiver.received).toHaveLength(11);
  });

  it("a receiver that does not answer in time is a failed attempt with the reason, retried later", async () => {
    const endpoint = await addEndpoint(["invitation.created"]);
    const { admin } = await signUp(h);
    receiver.respond = (_request, index) => (index === 0 ? "hang" : 200);
    await admin.invite.create({ email: `${unique("slow")}@example.com`, role: null });
    await h.deliverWebhooks();
    const [pending] = await staff.caller.ops.webhookDeliveries({ id: endpoint.id });
    expect(pending).toMatchObject({ status: "pending", lastError: "The endpoint did not answer within 500 ms." });
    expect(pending?.attemptLog[0]).toMatchObject({ succeeded: false, responseStatus: null });
    expect(pending?.attemptLog[0]?.latencyMs).toBeGreaterThanOrEqual(450);
    h.clock.advance(5_000);
    await h.deliverWebhooks();
    expect((await staff.caller.ops.webhookDeliveries({ id: endpoint.id }))[0]?.status).toBe("delivered");
  });

  it("refuses URLs that are not http(s), and unknown or management event types", async () => {
    for (const url of ["ftp://example.com/hook", "javascript:alert(1)", "file:///etc/passwd", "not a url"]) {
      const error = await failure(staff.caller.ops.createWebhook({ url }));
      expect(error.code, url).toBe("BAD_REQUEST");
      expect(Object.keys(fieldErrorsOf(error)), url).toEqual(["url"]);
    }
    for (const eventTypes of [["tenant.exploded"], ["webhook.created"]]) {
      const error = await failure(staff.caller.ops.createWebhook({ url: receiver.url, eventTypes }));
      expect(error.code).toBe("BAD_REQUEST");
    }
    expect(await staff.caller.ops.webhooks()).toEqual([]);
  });

  it("a test of an unreachable endpoint is one failed attempt with the reason; the endpoint stays enabled", async () => {
    const closed = await startReceiver();
    await closed.close();
    const endpoint = await addEndpoint(undefined, `${closed.url}?token=query-secret`);
    const test = await staff.caller.ops.testWebhook({ id: endpoint.id });
    expect(test).toMatchObject({ status: "failed", attempts: 1, lastError: "The request failed: ECONNREFUSED." });
    expect((await staff.caller.ops.webhooks())[0]).toMatchObject({ enabled: true });
    // Removing it removes its queue; the audit trail keeps that it existed, without the query string.
    await staff.caller.ops.removeWebhook({ id: endpoint.id });
    expect(await sql("select 1 from webhook_deliveries where endpoint_id = ?", [endpoint.id])).toEqual([]);
    const trail = await sql<{ action: string }>(
      "select action from audit_events where target_id = ? order by occurred_at, id",
      [endpoint.id],
    );
    expect(trail.map((event) => event.action).sort()).toEqual(["webhook.created", "webhook.removed", "webhook.tested"]);
    expect((await failure(staff.caller.ops.removeWebhook({ id: endpoint.id }))).code).toBe("NOT_FOUND");
  });
});
