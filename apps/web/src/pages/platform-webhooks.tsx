import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useProblem, valuesOf } from "../features/forms.ts";
import { useMe } from "../features/session.ts";
import { api, type Outputs } from "../lib/api.ts";
import { describeProblem, toProblem } from "../lib/errors.ts";
import { formatInstant } from "../lib/format.ts";
import { Alert } from "../ui/alert.tsx";
import { Button } from "../ui/button.tsx";
import { Card } from "../ui/card.tsx";
import { ConfirmDialog } from "../ui/dialog.tsx";
import { TextField } from "../ui/field.tsx";
import { Page } from "../ui/page.tsx";
import { QueryState } from "../ui/query-state.tsx";
import { Badge, Cell, Table } from "../ui/table.tsx";
import { ForbiddenPage } from "./not-found.tsx";

type Endpoint = Outputs["ops"]["webhooks"][number];

/** Platform webhook endpoints: add (the secret is shown once), test, remove, and each one's deliveries. */
export function PlatformWebhooksPage() {
  const me = useMe();
  const queryClient = useQueryClient();
  const endpoints = useQuery({
    queryKey: ["ops.webhooks"],
    queryFn: () => api.ops.webhooks.query(),
    enabled: me.isSuperuser,
  });
  const [message, setMessage] = useState<{ tone: "error" | "success"; words: string } | null>(null);
  const [removing, setRemoving] = useState<Endpoint | null>(null);
  const [watching, setWatching] = useState<Endpoint | null>(null);
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: ["ops.webhooks"] }),
      queryClient.invalidateQueries({ queryKey: ["ops.webhookDeliveries"] }),
    ]);
  const failed = (error: unknown) => setMessage({ tone: "error", words: describeProblem(toProblem(error)) });
  const test = useMutation({
    mutationFn: (endpoint: Endpoint) => api.ops.testWebhook.mutate({ id: endpoint.id }),
    onSuccess: async (delivery, endpoint) => {
      setMessage({
        tone: delivery.status === "delivered" ? "success" : "error",
        words:
          delivery.status === "delivered"
            ? `Test event delivered to ${endpoint.url}.`
            : `Test event not delivered to ${endpoint.url}: ${delivery.lastError ?? delivery.status}.`,
      });
      await refresh();
    },
    onError: failed,
  });
  const remove = useMutation({
    mutationFn: (endpoint: Endpoint) => api.ops.removeWebhook.mutate({ id: endpoint.id }),
    onSuccess: async (_, endpoint) => {
      setRemoving(null);
      if (watching?.id === endpoint.id) setWatching(null);
      setMessage({ tone: "success", words: `${endpoint.url} removed.` });
      await refresh();
    },
    onError: (error) => {
      setRemoving(null);
      failed(error);
    },
  });
  if (!me.isSuperuser) return <ForbiddenPage />;
  return (
    <Page title="Webhooks">
      <AddEndpoint onAdded={refresh} />
      <Card title="Endpoints">
        {message && (
          <div className="mb-4">
            <Alert tone={message.tone}>{message.words}</Alert>
          </div>
        )}
        <QueryState query={endpoints} empty="No endpoints yet." isEmpty={(list) => list.length === 0}>
          {(list) => (
            <Table caption="Webhook endpoints" head={["URL", "Events", "State", "Added", "Actions"]}>
              {list.map((endpoint) => (
                <tr key={endpoint.id}>
                  <Cell className="px-3 py-2 break-all">{endpoint.url}</Cell>
                  <Cell>{endpoint.eventTypes?.join(", ") || "Every event"}</Cell>
                  <Cell>
                    <Badge>{endpoint.enabled ? "Enabled" : "Disabled"}</Badge>
                    {endpoint.disabledReason && (
                      <p className="mt-1 text-xs text-slate-700">{endpoint.disabledReason}</p>
                    )}
                  </Cell>
                  <Cell>{formatInstant(endpoint.createdAt)}</Cell>
                  <Cell>
                    <div className="flex gap-1">
                      <Button
                        variant="secondary"
                        size="sm"
                        onClick={() => test.mutate(endpoint)}
                        disabled={test.isPending}
                      >
                        Send test
                      </Button>
                      <Button variant="secondary" size="sm" onClick={() => setWatching(endpoint)}>
                        Deliveries
                      </Button>
                      <Button variant="secondary" size="sm" onClick={() => setRemoving(endpoint)}>
                        Remove
                      </Button>
                    </div>
                  </Cell>
                </tr>
              ))}
            </Table>
          )}
        </QueryState>
      </Card>
      {watching && <Deliveries endpoint={watching} />}
      <ConfirmDialog
        open={removing !== null}
        title="Remove this endpoint?"
        confirmLabel="Remove endpoint"
        pending={remove.isPending}
        onConfirm={() => removing && remove.mutate(removing)}
        onClose={() => setRemoving(null)}
      >
        {removing?.url} will receive no more events.
      </ConfirmDialog>
    </Page>
  );
}

function AddEndpoint({ onAdded }: { onAdded: () => Promise<unknown> }) {
  const { errors, fail, clear } = useProblem(["url", "eventTypes"]);
  const [secret, setSecret] = useState<string | null>(null);
  const add = useMutation({
    mutationFn: ({ values }: { values: Record<string, string>; form: HTMLFormElement }) => {
      const events = (values.eventTypes ?? "")
        .split(",")
        .map((name) => name.trim())
        .filter(Boolean);
      return api.ops.createWebhook.mutate({ url: values.url ?? "", eventTypes: events.length ? events : null });
    },
    onMutate: () => {
      clear();
      setSecret(null);
    },
    onError: fail,
    onSuccess: async (created, { form }) => {
      form.reset();
      setSecret(created.secret);
      await onAdded();
    },
  });
  return (
    <Card title="Add an endpoint">
      <form
        noValidate
        className="grid gap-4 sm:grid-cols-[2fr_2fr_auto] sm:items-start"
        onSubmit={(event) => {
          event.preventDefault();
          const form = event.currentTarget;
          add.mutate({ values: valuesOf(form), form });
        }}
      >
        <TextField label="URL" name="url" type="url" required error={errors.fields.url} />
        <TextField
          label="Events"
          name="eventTypes"
          hint="Comma-separated, e.g. tenant.created; empty: every event"
          error={errors.fields.eventTypes}
        />
        <Button type="submit" className="sm:mt-6" disabled={add.isPending}>
          Add endpoint
        </Button>
      </form>
      <div className="mt-4 space-y-3">
        {errors.form && <Alert tone="error">{errors.form}</Alert>}
        {secret && (
          <Alert tone="success">
            Endpoint added. Its signing secret, shown only now:{" "}
            <code className="font-mono break-all select-all">{secret}</code>
          </Alert>
        )}
      </div>
    </Card>
  );
}

function Deliveries({ endpoint }: { endpoint: Endpoint }) {
  const input = { id: endpoint.id, limit: 50 };
  const deliveries = useQuery({
    queryKey: ["ops.webhookDeliveries", input],
    queryFn: () => api.ops.webhookDeliveries.query(input),
  });
  return (
    <Card title={`Latest deliveries to ${endpoint.url}`}>
      <QueryState query={deliveries} empty="No deliveries yet." isEmpty={(list) => list.length === 0}>
        {(list) => (
          <Table caption="Webhook deliveries" head={["Event", "Status", "Attempts", "Created", "Last error"]}>
            {list.map((delivery) => (
              <tr key={delivery.id}>
                <Cell>{delivery.eventType}</Cell>
                <Cell>
                  <Badge>{delivery.status}</Badge>
                </Cell>
                <Cell>{delivery.attempts}</Cell>
                <Cell>{formatInstant(delivery.createdAt)}</Cell>
                <Cell>{delivery.lastError ?? "—"}</Cell>
              </tr>
            ))}
          </Table>
        )}
      </QueryState>
    </Card>
  );
}
