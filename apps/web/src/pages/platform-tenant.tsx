import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link, useParams } from "@tanstack/react-router";
import { useState } from "react";
import { BulkInviteForm, InvitationsList, InviteForm } from "../features/invitations-panel.tsx";
import { MembersPanel } from "../features/members-panel.tsx";
import { useMe } from "../features/session.ts";
import { api, ROLES } from "../lib/api.ts";
import { formatInstant } from "../lib/format.ts";
import { Card } from "../ui/card.tsx";
import { Page } from "../ui/page.tsx";
import { Pager } from "../ui/pager.tsx";
import { QueryState } from "../ui/query-state.tsx";
import { Cell, Table } from "../ui/table.tsx";
import { ForbiddenPage } from "./not-found.tsx";

const LIMIT = 20;

/** One tenant as platform staff see it: its members, invitations and role assignments. */
export function PlatformTenantPage() {
  const me = useMe();
  const { tenantId } = useParams({ from: "/app/platform/tenants/$tenantId" });
  const tenant = useQuery({
    queryKey: ["tenant.get", tenantId],
    queryFn: () => api.tenant.get.query({ id: tenantId }),
    enabled: me.isSuperuser,
  });
  if (!me.isSuperuser) return <ForbiddenPage />;
  return (
    <Page title={tenant.data ? `Tenant ${tenant.data.name}` : "Tenant"}>
      <Link to="/platform" className="text-sm font-medium text-indigo-800 underline">
        All tenants
      </Link>
      <QueryState query={tenant} empty="" isEmpty={() => false}>
        {(found) => (
          <>
            <p className="text-sm text-slate-700">
              Slug <span className="font-mono">{found.slug}</span> · created {formatInstant(found.createdAt)}
            </p>
            <Card title="Members">
              <MembersPanel tenant={found.id} canManage />
            </Card>
            <InviteForm tenant={found.id} />
            <BulkInviteForm tenant={found.id} />
            <InvitationsList tenant={found.id} />
            <RoleAssignments tenant={found.id} />
          </>
        )}
      </QueryState>
    </Page>
  );
}

function RoleAssignments({ tenant }: { tenant: string }) {
  const [offset, setOffset] = useState(0);
  const input = { tenant, limit: LIMIT, offset };
  const assignments = useQuery({
    queryKey: ["role.page", input],
    queryFn: () => api.role.page.query(input),
    placeholderData: keepPreviousData,
  });
  const users = useQuery({ queryKey: ["user.list", tenant], queryFn: () => api.user.list.query({ tenant }) });
  const email = (id: string) => users.data?.find((user) => user.id === id)?.email ?? id;
  return (
    <Card title="Role assignments">
      <QueryState query={assignments} empty="No roles granted." isEmpty={(page) => page.count === 0}>
        {(page) => (
          <>
            <Table caption="Role assignments" head={["Member", "Role", "Granted"]}>
              {page.results.map((assignment) => (
                <tr key={assignment.id}>
                  <Cell>{email(assignment.userId)}</Cell>
                  <Cell>{ROLES[assignment.role]}</Cell>
                  <Cell>{formatInstant(assignment.createdAt)}</Cell>
                </tr>
              ))}
            </Table>
            <Pager
              label="Role assignments"
              offset={offset}
              limit={LIMIT}
              shown={page.results.length}
              count={page.count}
              onOffset={setOffset}
            />
          </>
        )}
      </QueryState>
    </Card>
  );
}
