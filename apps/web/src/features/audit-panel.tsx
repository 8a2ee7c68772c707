import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { AUDIT_ACTIONS, type AuditAction, api } from "../lib/api.ts";
import { formErrors, toProblem } from "../lib/errors.ts";
import { formatInstant } from "../lib/format.ts";
import { Alert } from "../ui/alert.tsx";
import { Button } from "../ui/button.tsx";
import { Card } from "../ui/card.tsx";
import { SelectField, TextField } from "../ui/field.tsx";
import { Pager } from "../ui/pager.tsx";
import { QueryState } from "../ui/query-state.tsx";
import { Cell, Table } from "../ui/table.tsx";
import { type AuditFilter, auditFilter } from "./audit-filter.ts";
import { valuesOf } from "./forms.ts";

const LIMIT = 25;
const ACTION_OPTIONS = [
  { value: "", label: "Any action" },
  ...(Object.keys(AUDIT_ACTIONS) as AuditAction[]).map((action) => ({ value: action, label: AUDIT_ACTIONS[action] })),
];

/** The audit trail, newest first: a tenant's for its admins, every tenant's (or one named) for platform staff. */
export function AuditPanel({ platform }: { platform?: boolean }) {
  const [filter, setFilter] = useState<AuditFilter>({});
  const [offset, setOffset] = useState(0);
  const input = { ...filter, limit: LIMIT, offset };
  const events = useQuery({
    queryKey: ["audit.page", input],
    queryFn: () => api.audit.page.query(input),
    placeholderData: keepPreviousData,
  });
  const tenants = useQuery({
    queryKey: ["tenant.list"],
    queryFn: () => api.tenant.list.query(),
    enabled: Boolean(platform),
  });
  const tenantName = (id: string | null) => (id ? (tenants.data?.find((each) => each.id === id)?.name ?? id) : "—");
  const problem = events.error ? toProblem(events.error) : null;
  const errors = formErrors(problem?.code === "BAD_REQUEST" ? problem : null, [
    "action",
    "actor",
    "since",
    "until",
    "tenant",
  ]);
  return (
    <Card>
      <form
        className="mb-6 grid gap-4 sm:grid-cols-2 lg:grid-cols-[repeat(auto-fit,minmax(10rem,1fr))] lg:items-start"
        onSubmit={(event) => {
          event.preventDefault();
          setFilter(auditFilter(valuesOf(event.currentTarget)));
          setOffset(0);
        }}
      >
        <SelectField
          label="Action"
          name="action"
          options={ACTION_OPTIONS}
          defaultValue=""
          error={errors.fields.action}
        />
        <TextField
          label="Actor"
          name="actor"
          hint="Email, user id, or system, cli, anonymous"
          error={errors.fields.actor}
        />
        {platform && <TextField label="Tenant" name="tenant" hint="Slug or id" error={errors.fields.tenant} />}
        <TextField label="From" name="since" type="date" error={errors.fields.since} />
        <TextField label="To" name="until" type="date" error={errors.fields.until} />
        <Button type="submit" variant="secondary" className="justify-self-start lg:mt-6">
          Filter
        </Button>
      </form>
      {problem?.code === "BAD_REQUEST" ? (
        errors.form && <Alert tone="error">{errors.form}</Alert>
      ) : (
        <QueryState query={events} empty="No events match." isEmpty={(page) => page.count === 0}>
          {(page) => (
            <>
              <Table
                caption="Audit events"
                head={["When", "Action", "Actor", ...(platform ? ["Tenant"] : []), "Target", "IP"]}
              >
                {page.results.map((event) => (
                  <tr key={event.id}>
                    <Cell>{formatInstant(event.occurredAt)}</Cell>
                    <Cell>{AUDIT_ACTIONS[event.action]}</Cell>
                    <Cell>{event.actorEmail ?? event.actorType}</Cell>
                    {platform && <Cell>{tenantName(event.tenantId)}</Cell>}
                    <Cell>
                      {event.targetType
                        ? `${event.targetType.replaceAll("_", " ")} ${event.targetId?.slice(0, 8) ?? ""}`
                        : "—"}
                    </Cell>
                    <Cell>{event.ip ?? "—"}</Cell>
                  </tr>
                ))}
              </Table>
              <Pager
                label="Audit events"
                offset={offset}
                limit={LIMIT}
                shown={page.results.length}
                count={page.count}
                onOffset={setOffset}
              />
            </>
          )}
        </QueryState>
      )}
    </Card>
  );
}
