import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { useEffect, useState } from "react";
import { useProblem } from "../features/forms.ts";
import { ME_KEY, PASSWORD_POLICY } from "../features/session.ts";
import { ValuesForm } from "../features/values-form.tsx";
import { api } from "../lib/api.ts";
import { tokenFromLocation } from "../lib/format.ts";
import { Button } from "../ui/button.tsx";
import { Card } from "../ui/card.tsx";
import { TextField } from "../ui/field.tsx";
import { Page } from "../ui/page.tsx";
import { PublicFrame } from "../ui/public-frame.tsx";

const DEAD_ENDS = {
  invalid: {
    title: "This reset link does not work",
    words:
      "It was already used, it expired (links work for one hour), or a newer reset email replaced it. Ask for a new link and use the one in the newest email.",
  },
  missing: {
    title: "No reset link here",
    words: "Open the link from your password reset email exactly as it was sent, or ask for a new one.",
  },
};

/** `/reset-password#token=…`: a new password, once per link; every session of the account ends. */
export function ResetPasswordPage() {
  const [token] = useState(() => tokenFromLocation(window.location));
  useEffect(() => {
    // The token is a secret: once read, keep it out of the address bar and the history.
    if (window.location.hash || window.location.search) window.history.replaceState(null, "", "/reset-password");
  }, []);
  const queryClient = useQueryClient();
  const { problem, errors, fail, clear } = useProblem(["newPassword"]);
  const confirm = useMutation({
    mutationFn: (values: Record<string, string>) =>
      api.auth.confirmPasswordReset.mutate({ token: token ?? "", newPassword: values.newPassword ?? "" }),
    onMutate: clear,
    onError: fail,
    // Every session of the account ended, this browser's too if it was signed in as them.
    onSuccess: () => queryClient.setQueryData(ME_KEY, null),
  });

  const deadEnd = !token ? DEAD_ENDS.missing : problem?.fieldErrors.token ? DEAD_ENDS.invalid : null;
  if (deadEnd) {
    return (
      <PublicFrame>
        <Page title={deadEnd.title}>
          <p className="text-slate-800">{deadEnd.words}</p>
          <Button asChild className="w-full sm:w-auto">
            <Link to="/forgot-password">Ask for a new link</Link>
          </Button>
        </Page>
      </PublicFrame>
    );
  }
  if (confirm.isSuccess) {
    return (
      <PublicFrame>
        <Page title="Password changed">
          <p className="text-slate-800">
            Your new password is set, and you were signed out everywhere. Sign in with your new password.
          </p>
          <Button asChild className="w-full sm:w-auto">
            <Link to="/sign-in">Sign in</Link>
          </Button>
        </Page>
      </PublicFrame>
    );
  }
  return (
    <PublicFrame>
      <Page title="Choose a new password">
        <p className="text-sm text-slate-700">Setting a new password signs you out everywhere; then sign in with it.</p>
        <Card>
          <ValuesForm error={errors.form} onValues={(values) => confirm.mutate(values)}>
            <TextField
              label="New password"
              name="newPassword"
              type="password"
              required
              autoComplete="new-password"
              hint={PASSWORD_POLICY}
              error={errors.fields.newPassword}
            />
            <Button type="submit" className="w-full" disabled={confirm.isPending}>
              {confirm.isPending ? "Saving…" : "Set new password"}
            </Button>
          </ValuesForm>
        </Card>
      </Page>
    </PublicFrame>
  );
}
