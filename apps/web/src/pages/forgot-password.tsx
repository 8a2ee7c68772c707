import { useMutation } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { useProblem } from "../features/forms.ts";
import { ValuesForm } from "../features/values-form.tsx";
import { api } from "../lib/api.ts";
import { Button } from "../ui/button.tsx";
import { Card } from "../ui/card.tsx";
import { TextField } from "../ui/field.tsx";
import { Page } from "../ui/page.tsx";
import { PublicFrame } from "../ui/public-frame.tsx";

/** The same words whether or not the address has an account: the page must not tell which. */
export const RESET_SENT =
  "If an account uses this email address, we have sent it a link to choose a new password. The link works once, for one hour.";

/** Asks for a reset link by email; the answer never says whether the address has an account. */
export function ForgotPasswordPage() {
  const { errors, fail, clear } = useProblem(["email", "tenant"]);
  const request = useMutation({
    mutationFn: (values: Record<string, string>) =>
      api.auth.requestPasswordReset.mutate({
        email: values.email ?? "",
        ...(values.tenant?.trim() ? { tenant: values.tenant.trim() } : {}),
      }),
    onMutate: clear,
    onError: fail,
  });
  if (request.isSuccess) {
    return (
      <PublicFrame>
        <Page title="Check your email">
          <p className="text-slate-800">{RESET_SENT}</p>
          <p className="text-sm text-slate-700">
            No email after a few minutes? Check your spam folder, or{" "}
            <button
              type="button"
              className="font-medium text-indigo-800 underline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600"
              onClick={() => request.reset()}
            >
              ask for another link
            </button>
            .
          </p>
          <Link to="/sign-in" className="font-medium text-indigo-800 underline">
            Go to sign in
          </Link>
        </Page>
      </PublicFrame>
    );
  }
  return (
    <PublicFrame>
      <Page title="Reset your password">
        <p className="text-sm text-slate-700">
          Enter the email address you sign in with, and we will email you a link to choose a new password.
        </p>
        <Card>
          <ValuesForm error={errors.form} onValues={(values) => request.mutate(values)}>
            <TextField
              label="Email"
              name="email"
              type="email"
              autoComplete="username"
              required
              error={errors.fields.email}
            />
            <TextField
              label="Tenant (optional)"
              name="tenant"
              hint="Only if this email has accounts in several tenants: the tenant's slug, for example acme."
              error={errors.fields.tenant}
            />
            <Button type="submit" className="w-full" disabled={request.isPending}>
              {request.isPending ? "Sending…" : "Send reset link"}
            </Button>
          </ValuesForm>
        </Card>
        <p className="text-sm text-slate-700">
          Remembered it?{" "}
          <Link to="/sign-in" className="font-medium text-indigo-800 underline">
            Sign in
          </Link>
        </p>
      </Page>
    </PublicFrame>
  );
}
