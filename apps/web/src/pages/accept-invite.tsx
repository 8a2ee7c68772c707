import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "@tanstack/react-router";
import { useState } from "react";
import { useProblem } from "../features/forms.ts";
import { type InvitationOutcome, invitationOutcome } from "../features/invitation-outcome.ts";
import { useInvitationPreview } from "../features/invitation-preview.ts";
import { ME_KEY, PASSWORD_POLICY } from "../features/session.ts";
import { ValuesForm } from "../features/values-form.tsx";
import { api, ROLES, type Role } from "../lib/api.ts";
import { formatInstant, tokenFromLocation } from "../lib/format.ts";
import { Button } from "../ui/button.tsx";
import { Card } from "../ui/card.tsx";
import { TextField } from "../ui/field.tsx";
import { Page } from "../ui/page.tsx";
import { PublicFrame } from "../ui/public-frame.tsx";

const DEAD_ENDS: Record<InvitationOutcome | "missing", { title: string; words: string }> = {
  expired: {
    title: "This invitation has expired",
    words: "Ask the admin who invited you to extend it or send a new one; the link in the new email will work.",
  },
  accepted: {
    title: "This invitation was already accepted",
    words: "The account exists. Sign in with the email address and the password chosen when it was accepted.",
  },
  invalid: {
    title: "This invitation link does not work",
    words:
      "It may have been revoked or replaced by a newer email. Open the link in the latest invitation email, or ask your admin to send it again.",
  },
  missing: {
    title: "No invitation in this link",
    words: "Open the link from your invitation email exactly as it was sent.",
  },
};

/** `/accept-invite#token=…` (or the older `?token=…`): choose names and a password, then you are signed in. */
export function AcceptInvitePage() {
  const [token] = useState(() => tokenFromLocation(window.location));
  const preview = useInvitationPreview(token);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { problem, errors, fail, clear } = useProblem(["password", "firstName", "lastName"]);
  const accept = useMutation({
    mutationFn: async (values: Record<string, string>) => {
      const user = await api.invite.accept.mutate({
        token: token ?? "",
        password: values.password ?? "",
        firstName: values.firstName,
        lastName: values.lastName,
      });
      return api.auth.login.mutate({
        email: user.email,
        password: values.password ?? "",
        ...(user.tenantId ? { tenant: user.tenantId } : {}),
      });
    },
    onMutate: clear,
    onError: fail,
    onSuccess: async ({ user }) => {
      // The token is spent; keep it out of the history.
      window.history.replaceState(null, "", "/accept-invite");
      queryClient.setQueryData(ME_KEY, user);
      await navigate({ to: "/members" });
    },
  });

  const deadEnd = !token
    ? "missing"
    : preview.state === "expired" || preview.state === "accepted" || preview.state === "invalid"
      ? preview.state
      : invitationOutcome(problem);
  if (deadEnd) {
    const { title, words } = DEAD_ENDS[deadEnd];
    return (
      <PublicFrame>
        <Page title={title}>
          <p className="text-slate-800">{words}</p>
          <Link to="/sign-in" className="font-medium text-indigo-800 underline">
            Go to sign in
          </Link>
        </Page>
      </PublicFrame>
    );
  }

  return (
    <PublicFrame>
      <Page title="Accept your invitation">
        {preview.state === "loading" ? (
          <p role="status" className="text-sm text-slate-700">
            Loading…
          </p>
        ) : preview.state === "pending" ? (
          <Card title="Your invitation">
            <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
              <dt className="font-medium text-slate-700">Tenant</dt>
              <dd>{preview.tenant.name}</dd>
              <dt className="font-medium text-slate-700">Email</dt>
              <dd>{preview.email}</dd>
              <dt className="font-medium text-slate-700">Role</dt>
              <dd>{preview.role ? ROLES[preview.role as Role] : "No role"}</dd>
              <dt className="font-medium text-slate-700">Invited by</dt>
              <dd>{preview.invitedByName ?? "—"}</dd>
              <dt className="font-medium text-slate-700">Expires</dt>
              <dd>{formatInstant(preview.expiresAt)}</dd>
            </dl>
          </Card>
        ) : (
          <p className="text-sm text-slate-700">Choose your name and a password to join your team on Tenantry.</p>
        )}
        {preview.state !== "loading" && (
          <Card title="Your account">
            <ValuesForm error={errors.form} onValues={(values) => accept.mutate(values)}>
              <div className="grid gap-4 sm:grid-cols-2">
                <TextField
                  label="First name"
                  name="firstName"
                  autoComplete="given-name"
                  error={errors.fields.firstName}
                />
                <TextField
                  label="Last name"
                  name="lastName"
                  autoComplete="family-name"
                  error={errors.fields.lastName}
                />
              </div>
              <TextField
                label="Password"
                name="password"
                type="password"
                required
                autoComplete="new-password"
                hint={PASSWORD_POLICY}
                error={errors.fields.password}
              />
              <Button type="submit" className="w-full" disabled={accept.isPending}>
                {accept.isPending ? "Accepting…" : "Accept invitation"}
              </Button>
            </ValuesForm>
          </Card>
        )}
      </Page>
    </PublicFrame>
  );
}
