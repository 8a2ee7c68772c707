import { useQuery } from "@tanstack/react-query";
import { NamesForm, PasswordForm, SessionsPanel } from "../features/account-forms.tsx";
import { useMe } from "../features/session.ts";
import { api, ROLES } from "../lib/api.ts";
import { formatInstant, fullName } from "../lib/format.ts";
import { Card } from "../ui/card.tsx";
import { Page } from "../ui/page.tsx";

/** Who you are signed in as, in which tenant, with which roles; your names, password and sessions. */
export function AccountPage() {
  const me = useMe();
  const tenant = useQuery({
    queryKey: ["tenant.get", me.tenantId],
    queryFn: () => api.tenant.get.query({ id: me.tenantId ?? "" }),
    enabled: me.tenantId !== null,
  });
  return (
    <Page title="Account">
      <Card title="Profile">
        <dl className="grid grid-cols-[auto_1fr] gap-x-6 gap-y-2 text-sm">
          <dt className="font-medium text-slate-700">Name</dt>
          <dd>{fullName(me)}</dd>
          <dt className="font-medium text-slate-700">Email</dt>
          <dd className="break-all">{me.email}</dd>
          <dt className="font-medium text-slate-700">Tenant</dt>
          <dd>{me.isSuperuser ? "Platform staff (every tenant)" : (tenant.data?.name ?? "…")}</dd>
          <dt className="font-medium text-slate-700">Roles</dt>
          <dd>{me.isSuperuser ? "Superuser" : me.roles.map((role) => ROLES[role]).join(", ") || "No role"}</dd>
          <dt className="font-medium text-slate-700">Joined</dt>
          <dd>{formatInstant(me.dateJoined)}</dd>
        </dl>
      </Card>
      <div className="grid gap-6 lg:grid-cols-2">
        <NamesForm />
        <PasswordForm />
      </div>
      <SessionsPanel />
    </Page>
  );
}
