import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "@tanstack/react-router";
import { useProblem } from "../features/forms.ts";
import { ME_KEY } from "../features/session.ts";
import { ValuesForm } from "../features/values-form.tsx";
import { api } from "../lib/api.ts";
import { Button } from "../ui/button.tsx";
import { Card } from "../ui/card.tsx";
import { TextField } from "../ui/field.tsx";
import { Page } from "../ui/page.tsx";
import { PublicFrame } from "../ui/public-frame.tsx";

const FIELDS = ["name", "adminEmail", "adminPassword", "adminFirstName", "adminLastName"] as const;

/** Creates a tenant and its first admin, then signs that admin in. */
export function SignUpPage() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { errors, fail, clear } = useProblem(FIELDS);
  const signUp = useMutation({
    mutationFn: async (values: Record<string, string>) => {
      const tenant = await api.tenant.create.mutate({
        name: values.name ?? "",
        adminEmail: values.adminEmail ?? "",
        adminPassword: values.adminPassword ?? "",
        adminFirstName: values.adminFirstName,
        adminLastName: values.adminLastName,
      });
      return api.auth.login.mutate({
        email: values.adminEmail ?? "",
        password: values.adminPassword ?? "",
        tenant: tenant.slug,
      });
    },
    onMutate: clear,
    onError: fail,
    onSuccess: async ({ user }) => {
      queryClient.setQueryData(ME_KEY, user);
      await navigate({ to: "/members" });
    },
  });
  return (
    <PublicFrame>
      <Page title="Create a tenant">
        <p className="text-sm text-slate-700">Your company's space in Tenantry, with you as its first admin.</p>
        <Card>
          <ValuesForm error={errors.form} onValues={(values) => signUp.mutate(values)}>
            <TextField
              label="Tenant name"
              name="name"
              required
              autoComplete="organization"
              error={errors.fields.name}
            />
            <div className="grid gap-4 sm:grid-cols-2">
              <TextField
                label="First name"
                name="adminFirstName"
                autoComplete="given-name"
                error={errors.fields.adminFirstName}
              />
              <TextField
                label="Last name"
                name="adminLastName"
                autoComplete="family-name"
                error={errors.fields.adminLastName}
              />
            </div>
            <TextField
              label="Email"
              name="adminEmail"
              type="email"
              required
              autoComplete="email"
              error={errors.fields.adminEmail}
            />
            <TextField
              label="Password"
              name="adminPassword"
              type="password"
              required
              autoComplete="new-password"
              error={errors.fields.adminPassword}
            />
            <Button type="submit" className="w-full" disabled={signUp.isPending}>
              {signUp.isPending ? "Creating…" : "Create tenant"}
            </Button>
          </ValuesForm>
        </Card>
        <p className="text-sm text-slate-700">
          Already have an account?{" "}
          <Link to="/sign-in" className="font-medium text-indigo-800 underline">
            Sign in
          </Link>
        </p>
      </Page>
    </PublicFrame>
  );
}
