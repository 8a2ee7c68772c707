import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import {
  api,
  INVITATION_STATUSES,
  type Invitation,
  type InvitationStatus,
  type Outputs,
  ROLES,
  type Role,
} from "../lib/api.ts";
import { describeProblem, toProblem } from "../lib/errors.ts";
import { formatInstant } from "../lib/format.ts";
import { Alert } from "../ui/alert.tsx";
import { Button } from "../ui/button.tsx";
import { Card } from "../ui/card.tsx";
import { ConfirmDialog } from "../ui/dialog.tsx";
import { SelectField, TextAreaField, TextField } from "../ui/field.tsx";
import { Pager } from "../ui/pager.tsx";
import { QueryState } from "../ui/query-state.tsx";
import { Badge, Cell, Table } from "../ui/table.tsx";
import { notInvited, pastedAddresses, rowProblem } from "./bulk-invite.ts";
import { useProblem } from "./forms.ts";
import { ValuesForm } from "./values-form.tsx";

const LIMIT = 20;
const DELIVERY: Record<Invitation["emailDelivery"], string> = {
  pending: "Sending",
  sent: "Sent",
  failed: "Failed",
};
const ROLE_OPTIONS = [
  { value: "", label: "No role" },
  ...(Object.keys(ROLES) as Role[]).map((role) => ({ value: role, label: ROLES[role] })),
];

/** Invite one person into `tenant` (or the caller's own tenant). */
export function InviteForm({ tenant }: { tenant?: string }) {
  const queryClient = useQueryClient();
  const { errors, fail, clear } = useProblem(["email", "role"]);
  const [sent, setSent] = useState<string | null>(null);
  const invite = useMutation({
    mutationFn: ({ values }: { values: Record<string, string>; form: HTMLFormElement }) =>
      api.invite.create.mutate({
        email: values.email ?? "",
        role: (values.role || null) as Role | null,
        ...(tenant ? { tenant } : {}),
      }),
    onMutate: () => {
      clear();
      setSent(null);
    },
    onError: fail,
    onSuccess: async (invitation, { form }) => {
      // Cleared at once, before the list reloads, so nothing typed meanwhile is lost.
      form.reset();
      setSent(`Invitation sent to ${invitation.email}.`);
      await queryClient.invalidateQueries({ queryKey: ["invite.page"] });
    },
  });
  return (
    <Card title="Invite someone">
      <ValuesForm error={errors.form} onValues={(values, form) => invite.mutate({ values, form })}>
        {sent && <Alert tone="success">{sent}</Alert>}
        <div className="grid gap-4 sm:grid-cols-[2fr_1fr_auto] sm:items-start">
          <TextField label="Email" name="email" type="email" required error={errors.fields.email} />
          <SelectField label="Role" name="role" options={ROLE_OPTIONS} defaultValue="" error={errors.fields.role} />
          <Button type="submit" className="sm:mt-6" disabled={invite.isPending}>
            Invite
          </Button>
        </div>
      </ValuesForm>
    </Card>
  );
}

type BulkResult = Outputs["invite"]["bulk"];

/**
 * Invite many addresses into `tenant` (or the caller's own tenant) at once, pasted one per line or
 * comma-separated, with one role for all; a result per address.
 */
export function BulkInviteForm({ tenant }: { tenant?: string }) {
  const queryClient = useQueryClient();
  const { errors, fail, clear } = useProblem(["invitations", "role"]);
  const [result, setResult] = useState<BulkResult | null>(null);
  const invite = useMutation({
    mutationFn: ({ values }: { values: Record<string, string>; form: HTMLFormElement }) => {
      const role = (values.role || null) as Role | null;
      return api.invite.bulk.mutate({
        invitations: pastedAddresses(values.invitations ?? "").map((email) => ({ email, role })),
        ...(tenant ? { tenant } : {}),
      });
    },
    onMutate: () => {
      clear();
      setResult(null);
    },
    onError: fail,
    onSuccess: async (answer, { form }) => {
      // Only the addresses not invited stay in the box, to correct or drop before sending again.
      const textarea = form.elements.namedItem("invitations") as HTMLTextAreaElement | null;
      if (textarea) textarea.value = notInvited(answer.results).join("\n");
      setResult(answer);
      await queryClient.invalidateQueries({ queryKey: ["invite.page"] });
    },
  });
  return (
    <Card title="Invite several people">
      <ValuesForm error={errors.form} onValues={(values, form) => invite.mutate({ values, form })}>
        <div className="grid gap-4 sm:grid-cols-[2fr_1fr_auto] sm:items-start">
          <TextAreaField
            label="Email addresses"
            name="invitations"
            rows={4}
            hint="One per line, or separated by commas. Up to 100 at a time."
            error={errors.fields.invitations}
          />
          <SelectField
            label="Role for all"
            name="role"
            options={ROLE_OPTIONS}
            defaultValue=""
            error={errors.fields.role}
          />
          <Button type="submit" className="sm:mt-6" disabled={invite.isPending}>
            {invite.isPending ? "Inviting…" : "Invite all"}
          </Button>
        </div>
      </ValuesForm>
      {result && (
        <div className="mt-4 space-y-3">
          <Alert tone={result.failed === 0 ? "success" : result.created === 0 ? "error" : "info"}>
            {result.created} invited
            {result.failed ? `, ${result.failed} not invited: the addresses not invited are left in the box` : ""}.
          </Alert>
          <Table caption="Bulk invite results" head={["Email", "Result"]}>
            {result.results.map((row, index) => (
              // Repeated addresses are rows of their own, so the position is part of the key.
              // biome-ignore lint/suspicious/noArrayIndexKey: rows have no id of their own; the list never reorders.
              <tr key={`${index}-${row.email}`}>
                <Cell>{row.email}</Cell>
                <Cell className="px-3 py-2 align-top">
                  {row.invitation ? (
                    <Badge tone="positive">Invited</Badge>
                  ) : (
                    <span className="text-red-800">{rowProblem(row.errors) ?? "Not invited."}</span>
                  )}
                </Cell>
              </tr>
            ))}
          </Table>
        </div>
      )}
    </Card>
  );
}

/** Invitations with a status filter, their email's delivery, and revoke / resend / extend. */
export function InvitationsList({ tenant, showTenant }: { tenant?: string; showTenant?: boolean }) {
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<InvitationStatus | "">("");
  const [offset, setOffset] = useState(0);
  const [revoking, setRevoking] = useState<Invitation | null>(null);
  const [message, setMessage] = useState<{ tone: "error" | "success"; words: string } | null>(null);
  const input = { limit: LIMIT, offset, ...(status ? { status } : {}), ...(tenant ? { tenant } : {}) };
  const invitations = useQuery({
    queryKey: ["invite.page", input],
    queryFn: () => api.invite.page.query(input),
    placeholderData: keepPreviousData,
  });
  const tenants = useQuery({
    queryKey: ["tenant.list"],
    queryFn: () => api.tenant.list.query(),
    enabled: Boolean(showTenant),
  });
  const tenantName = (id: string) => tenants.data?.find((each) => each.id === id)?.name ?? id;
  const scoped = tenant ? { tenant } : {};
  const done = (words: string) => async () => {
    setMessage({ tone: "success", words });
    await queryClient.invalidateQueries({ queryKey: ["invite.page"] });
  };
  const failed = (error: unknown) => setMessage({ tone: "error", words: describeProblem(toProblem(error)) });
  const resend = useMutation({
    mutationFn: (invitation: Invitation) => api.invite.resend.mutate({ id: invitation.id, ...scoped }),
    onSuccess: (invitation) => done(`Invitation to ${invitation.email} sent again, with a new link.`)(),
    onError: failed,
  });
  const extend = useMutation({
    mutationFn: (invitation: Invitation) => api.invite.extend.mutate({ id: invitation.id, days: 7, ...scoped }),
    onSuccess: (invitation) =>
      done(`Invitation to ${invitation.email} now expires ${formatInstant(invitation.expiresAt)}.`)(),
    onError: failed,
  });
  const revoke = useMutation({
    mutationFn: (invitation: Invitation) => api.invite.revoke.mutate({ id: invitation.id, ...scoped }),
    onSuccess: (_, invitation) => {
      setRevoking(null);
      return done(`Invitation to ${invitation.email} revoked.`)();
    },
    onError: (error) => {
      setRevoking(null);
      failed(error);
    },
  });
  const head = ["Email", ...(showTenant ? ["Tenant"] : []), "Role", "Status", "Email delivery", "Expires", "Actions"];
  return (
    <Card title="Invitations">
      <div className="mb-4 flex flex-wrap items-end gap-4">
        <SelectField
          label="Status"
          className="w-48"
          value={status}
          onChange={(event) => {
            setStatus(event.target.value as InvitationStatus | "");
            setOffset(0);
          }}
          options={[
            { value: "", label: "All" },
            ...(Object.keys(INVITATION_STATUSES) as InvitationStatus[]).map((value) => ({
              value,
              label: INVITATION_STATUSES[value],
            })),
          ]}
        />
      </div>
      {message && (
        <div className="mb-4">
          <Alert tone={message.tone}>{message.words}</Alert>
        </div>
      )}
      <QueryState
        query={invitations}
        empty={status ? `No ${INVITATION_STATUSES[status].toLowerCase()} invitations.` : "No invitations yet."}
        isEmpty={(page) => page.count === 0}
      >
        {(page) => (
          <>
            <Table caption="Invitations" head={head}>
              {page.results.map((invitation) => {
                const open = invitation.status === "pending" || invitation.status === "expired";
                return (
                  <tr key={invitation.id}>
                    <Cell>{invitation.email}</Cell>
                    {showTenant && <Cell>{tenantName(invitation.tenantId)}</Cell>}
                    <Cell>{invitation.role ? ROLES[invitation.role] : "No role"}</Cell>
                    <Cell>
                      <Badge>{INVITATION_STATUSES[invitation.status]}</Badge>
                    </Cell>
                    <Cell>{DELIVERY[invitation.emailDelivery]}</Cell>
                    <Cell>{formatInstant(invitation.expiresAt)}</Cell>
                    <Cell>
                      {open ? (
                        <div className="flex gap-1">
                          <Button
                            variant="secondary"
                            size="sm"
                            aria-label={`Extend invitation to ${invitation.email} by 7 days`}
                            disabled={extend.isPending}
                            onClick={() => extend.mutate(invitation)}
                          >
                            Extend
                          </Button>
                          <Button
                            variant="secondary"
                            size="sm"
                            aria-label={`Resend invitation to ${invitation.email}`}
                            disabled={resend.isPending}
                            onClick={() => resend.mutate(invitation)}
                          >
                            Resend
                          </Button>
                          <Button
                            variant="secondary"
                            size="sm"
                            aria-label={`Revoke invitation to ${invitation.email}`}
                            onClick={() => setRevoking(invitation)}
                          >
                            Revoke
                          </Button>
                        </div>
                      ) : (
                        "—"
                      )}
                    </Cell>
                  </tr>
                );
              })}
            </Table>
            <Pager
              label="Invitations"
              offset={offset}
              limit={LIMIT}
              shown={page.results.length}
              count={page.count}
              onOffset={setOffset}
            />
          </>
        )}
      </QueryState>
      <ConfirmDialog
        open={revoking !== null}
        title="Revoke this invitation?"
        confirmLabel="Revoke invitation"
        pending={revoke.isPending}
        onConfirm={() => revoking && revoke.mutate(revoking)}
        onClose={() => setRevoking(null)}
      >
        The link sent to {revoking?.email} will stop working. You can invite the address again later.
      </ConfirmDialog>
    </Card>
  );
}
