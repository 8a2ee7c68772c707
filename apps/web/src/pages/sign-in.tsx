import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Link, useRouter, useSearch } from "@tanstack/react-router";
import { useState } from "react";
import { useProblem } from "../features/forms.ts";
import { ME_KEY, safeNext } from "../features/session.ts";
import { ValuesForm } from "../features/values-form.tsx";
import { api } from "../lib/api.ts";
import { toProblem } from "../lib/errors.ts";
import { Alert } from "../ui/alert.tsx";
import { Button } from "../ui/button.tsx";
import { Card } from "../ui/card.tsx";
import { TextField } from "../ui/field.tsx";
import { Page } from "../ui/page.tsx";
import { PublicFrame } from "../ui/public-frame.tsx";

/** Email and password; the tenant is asked for only when the address has accounts in several. */
export function SignInPage() {
  const { next, ended } = useSearch({ from: "/sign-in" });
  const router = useRouter();
  const queryClient = useQueryClient();
  const [askTenant, setAskTenant] = useState(false);
  const { errors, fail, clear } = useProblem(["email", "password", "tenant"]);
  const signIn = useMutation({
    mutationFn: (values: Record<string, string>) =>
      api.auth.login.mutate({
        email: values.email ?? "",
        password: values.password ?? "",
        ...(values.tenant ? { tenant: values.tenant } : {}),
      }),
    onMutate: clear,
    onError: (error) => {
      fail(error);
      if (toProblem(error).fieldErrors.tenant) setAskTenant(true);
    },
    onSuccess: ({ user }) => {
      queryClient.setQueryData(ME_KEY, user);
      router.history.push(safeNext(next) ?? (user.isSuperuser ? "/platform" : "/members"));
    },
  });
  const tenantAsked = askTenant || "tenant" in errors.fields;
  return (
    <PublicFrame>
      <Page title="Sign in">
        {ended && <Alert>Your session has ended. Sign in again to continue.</Alert>}
        <Card>
          <ValuesForm error={errors.form} onValues={(values) => signIn.mutate(values)}>
            <TextField
              label="Email"
              name="email"
              type="email"
              autoComplete="username"
              required
              error={errors.fields.email}
            />
            <TextField
              label="Password"
              name="password"
              type="password"
              autoComplete="current-password"
              required
              error={errors.fields.password}
            />
            {tenantAsked && (
              <TextField
                label="Tenant"
                name="tenant"
                hint="The tenant's slug or id, for example acme."
                error={errors.fields.tenant}
              />
            )}
            <Button type="submit" className="w-full" disabled={signIn.isPending}>
              {signIn.isPending ? "Signing in…" : "Sign in"}
            </Button>
            <p className="text-center text-sm">
              <Link to="/forgot-password" className="font-medium text-indigo-800 underline">
                Forgot your password?
              </Link>
            </p>
          </ValuesForm>
        </Card>
        <p className="text-sm text-slate-700">
          New to Tenantry?{" "}
          <Link to="/sign-up" className="font-medium text-indigo-800 underline">
            Create a tenant
          </Link>
        </p>
      </Page>
    </PublicFrame>
  );
}
