import type { AuditAction, Inputs } from "../lib/api.ts";

export type AuditFilter = Omit<Inputs["audit"]["page"], "limit" | "offset">;

/**
 * The audit page's filter form as the API's input: blank fields are left
 * out, and the "To" date counts the whole day (the API's `until` is an
 * instant, and a bare date means its midnight).
 */
export function auditFilter(values: Record<string, string | undefined>): AuditFilter {
  const filter: AuditFilter = {};
  const action = values.action?.trim();
  const actor = values.actor?.trim();
  const tenant = values.tenant?.trim();
  if (action) filter.action = action as AuditAction;
  if (actor) filter.actor = actor;
  if (tenant) filter.tenant = tenant;
  if (values.since) filter.since = values.since;
  if (values.until) filter.until = dayAfter(values.until);
  return filter;
}

function dayAfter(date: string): string {
  const day = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(day.getTime())) return date;
  day.setUTCDate(day.getUTCDate() + 1);
  return day.toISOString().slice(0, 10);
}
