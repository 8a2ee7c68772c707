import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useProblem, valuesOf } from "../features/forms.ts";
import { InvitationsList } from "../features/invitations-panel.tsx";
import { useMe } from "../features/session.ts";
import { api, type Outputs } from "../lib/api.ts";
import { formatInstant } from "../lib/format.ts";
import { Alert } from "../ui/alert.tsx";
import { Button } from "../ui/button.tsx";
import { Card } from "../ui/card.tsx";
import { ConfirmDialog } from "../ui/dialog.tsx";
import { TextField } from "../ui/field.tsx";
import { Page } from "../ui/page.tsx";
import { ForbiddenPage } from "./not-found.tsx";

type Purge = Outputs["ops"]["purgeInvitations"];

/** Invitations across every tenant, and the purge of old expired and revoked ones (counted first). */
export function PlatformInvitationsPage() {
  const me = useMe();
  if (!me.isSuperuser) return <ForbiddenPage />;
  return (
    <Page title="Invitations, all tenants">
      <InvitationsList showTenant />
      <PurgeCard />
    </Page>
  );
}

function PurgeCard() {
  const queryClient = useQueryClient();
  const { errors, fail, clear } = useProblem(["olderThanDays"]);
  const [counted, setCounted] = useState<{ days: number | undefined; result: Purge } | null>(null);
  const [done, setDone] = useState<Purge | null>(null);
  const [confirming, setConfirming] = useState(false);
  const dryRun = useMutation({
    mutationFn: (days: number | undefined) =>
      api.ops.purgeInvitations.mutate({ dryRun: true, ...(days === undefined ? {} : { olderThanDays: days }) }),
    onMutate: () => {
      clear();
      setDone(null);
    },
    onSuccess: (result, days) => setCounted({ days, result }),
    onError: fail,
  });
  const purge = useMutation({
    mutationFn: (days: number | undefined) =>
      api.ops.purgeInvitations.mutate({ dryRun: false, ...(days === undefined ? {} : { olderThanDays: days }) }),
    onSuccess: async (result) => {
      setConfirming(false);
      setCounted(null);
      setDone(result);
      await queryClient.invalidateQueries({ queryKey: ["invite.page"] });
    },
    onError: (error) => {
      setConfirming(false);
      fail(error);
    },
  });
  return (
    <Card title="Purge old invitations">
      <p className="mb-4 text-sm text-slate-700">
        Deletes invitations that expired or were revoked before the cutoff. Count them first; nothing is deleted until
        you confirm.
      </p>
      <form
        noValidate
        className="flex flex-wrap items-start gap-4"
        onSubmit={(event) => {
          event.preventDefault();
          const raw = valuesOf(event.currentTarget).olderThanDays?.trim();
          dryRun.mutate(raw ? Number(raw) : undefined);
        }}
      >
        <TextField
          label="Older than (days)"
          name="olderThanDays"
          inputMode="numeric"
          hint="Empty: the server's retention setting"
          error={errors.fields.olderThanDays}
          onChange={() => setCounted(null)}
        />
        <Button type="submit" variant="secondary" className="sm:mt-6" disabled={dryRun.isPending}>
          Count (dry run)
        </Button>
      </form>
      <div className="mt-4 space-y-3">
        {errors.form && <Alert tone="error">{errors.form}</Alert>}
        {counted && (
          <>
            <Alert>
              {counted.result.purged} invitation{counted.result.purged === 1 ? "" : "s"} expired or revoked before{" "}
              {formatInstant(counted.result.cutoff)} would be deleted.
            </Alert>
            <Button variant="danger" disabled={counted.result.purged === 0} onClick={() => setConfirming(true)}>
              Purge {counted.result.purged} invitation{counted.result.purged === 1 ? "" : "s"}
            </Button>
          </>
        )}
        {done && (
          <Alert tone="success">
            Purged {done.purged} invitation{done.purged === 1 ? "" : "s"}.
          </Alert>
        )}
      </div>
      <ConfirmDialog
        open={confirming}
        title="Delete these invitations?"
        confirmLabel="Delete for good"
        pending={purge.isPending}
        onConfirm={() => counted && purge.mutate(counted.days)}
        onClose={() => setConfirming(false)}
      >
        They cannot be restored. Their audit events stay.
      </ConfirmDialog>
    </Card>
  );
}
