import { openDatabase, resolveDatabaseTarget } from "@tenantry/db";
import { InvalidRequest } from "../domain/errors.js";
import type { Env } from "../env.js";
import { createLogger } from "../logger.js";
import { createServices, type RunningServices } from "../services.js";
import { id } from "../trpc/schemas.js";
import { webhookEventType, webhookUrl } from "../trpc/webhook-schemas.js";
import type { Command, CommandContext } from "./commands.js";
import { cliCaller, UsageError, unwrapped } from "./ops-caller.js";
import { render, renderOne } from "./output.js";

type OpsCaller = ReturnType<typeof cliCaller>["ops"];

/** Runs `work` with the `ops` procedures, as a superuser whose changes are recorded as `cli`. */
export async function withOps<T>(env: Env, work: (ops: OpsCaller, running: RunningServices) => Promise<T>): Promise<T> {
  const db = await openDatabase(resolveDatabaseTarget(env), { poolSize: 2 });
  try {
    const running = await createServices(
      env,
      db,
      createLogger(env.logLevel === "info" ? "warn" : env.logLevel, process.stderr),
    );
    try {
      return await work(cliCaller(running.services).ops, running);
    } finally {
      await running.stop();
    }
  } finally {
    await db.close();
  }
}

function endpointId(ctx: CommandContext): string {
  const parsed = id.safeParse(ctx.positionals[0]);
  if (!parsed.success) throw new UsageError("id: Must be a valid UUID.");
  return parsed.data;
}

/** `tenantry webhooks …`: the platform's webhook endpoints (API.md, "Events for provisioners"). */
export const WEBHOOK_COMMANDS: Record<string, Command> = {
  "webhooks add": {
    usage: "webhooks add --url URL [--events a,b]",
    summary: "add a webhook endpoint (an http(s) URL you choose); prints its signing secret, once",
    options: { url: { type: "string" }, events: { type: "string" } },
    async run(ctx) {
      const url = webhookUrl.safeParse(ctx.values.url);
      if (!url.success) throw new UsageError(`--url: ${url.error.issues[0]?.message ?? "invalid"}`);
      const events = typeof ctx.values.events === "string" ? ctx.values.events.split(",").map((e) => e.trim()) : [];
      for (const event of events) {
        if (!webhookEventType.safeParse(event).success)
          throw new UsageError(`--events: "${event}" is not an event type`);
      }
      const created = await withOps(ctx.env, (ops) =>
        unwrapped(ops.createWebhook({ url: url.data, eventTypes: events.length ? events : null })),
      );
      renderOne(
        ctx.out,
        { ...created },
        `Webhook endpoint ${created.id} added for ${created.url} (events: ${created.eventTypes?.join(",") ?? "all"}).
Signing secret (shown only now; keep it where your receiver can read it):
${created.secret}`,
      );
    },
  },

  "webhooks list": {
    usage: "webhooks list",
    summary: "the webhook endpoints (never their secrets)",
    async run(ctx) {
      const endpoints = await withOps(ctx.env, (ops) => unwrapped(ops.webhooks()));
      render(ctx.out, endpoints, [
        ["ID", (e) => e.id],
        ["URL", (e) => e.url],
        ["EVENTS", (e) => e.eventTypes ?? "all"],
        ["ENABLED", (e) => (e.enabled ? "yes" : "no")],
        ["CREATED", (e) => e.createdAt],
        ["DISABLED BECAUSE", (e) => e.disabledReason],
      ]);
    },
  },

  "webhooks remove": {
    usage: "webhooks remove <id>",
    summary: "remove a webhook endpoint, its queue and its delivery history",
    positionals: ["id"],
    async run(ctx) {
      const endpoint = endpointId(ctx);
      await withOps(ctx.env, (ops) => unwrapped(ops.removeWebhook({ id: endpoint })));
      renderOne(ctx.out, { id: endpoint, removed: true }, `Webhook endpoint ${endpoint} removed.`);
    },
  },

  "webhooks test": {
    usage: "webhooks test <id>",
    summary: "send a webhook.tested event now (once); a success enables a disabled endpoint again",
    positionals: ["id"],
    async run(ctx) {
      const endpoint = endpointId(ctx);
      const delivery = await withOps(ctx.env, (ops) => unwrapped(ops.testWebhook({ id: endpoint })));
      const attempt = delivery.attemptLog.at(-1);
      if (delivery.status !== "delivered") {
        throw new InvalidRequest(`the test delivery ${delivery.id} failed: ${delivery.lastError ?? delivery.status}`);
      }
      renderOne(
        ctx.out,
        { ...delivery },
        `Test event delivered to endpoint ${endpoint}: HTTP ${attempt?.responseStatus} in ${attempt?.latencyMs} ms (webhook-id ${delivery.id}).`,
      );
    },
  },

  "webhooks deliveries": {
    usage: "webhooks deliveries <id> [--status pending|delivered|failed] [--limit N]",
    summary: "an endpoint's deliveries, newest first, with their attempts (--json: every attempt)",
    positionals: ["id"],
    options: { status: { type: "string" }, limit: { type: "string" } },
    async run(ctx) {
      const endpoint = endpointId(ctx);
      const status = ctx.values.status;
      if (status !== undefined && !["pending", "delivered", "failed"].includes(String(status))) {
        throw new UsageError(`--status: "${status}" is not a valid choice.`);
      }
      const limitText = typeof ctx.values.limit === "string" ? ctx.values.limit : "100";
      if (!/^\d+$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > 1000) {
        throw new UsageError("--limit: a whole number from 1 to 1000");
      }
      const deliveries = await withOps(ctx.env, (ops) =>
        unwrapped(
          ops.webhookDeliveries({
            id: endpoint,
            status: status as "pending" | "delivered" | "failed" | undefined,
            limit: Number(limitText),
          }),
        ),
      );
      render(ctx.out, deliveries, [
        ["ID", (d) => d.id],
        ["EVENT", (d) => d.eventType],
        ["TENANT", (d) => d.tenantId],
        ["STATUS", (d) => d.status],
        ["ATTEMPTS", (d) => d.attempts],
        [
          "LAST ATTEMPT",
          (d) => {
            const last = d.attemptLog.at(-1);
            return last ? `${last.responseStatus ?? "no answer"} in ${last.latencyMs} ms at ${last.attemptedAt}` : null;
          },
        ],
        ["NEXT", (d) => d.nextAttemptAt],
        ["ERROR", (d) => d.lastError],
      ]);
    },
  },
};
