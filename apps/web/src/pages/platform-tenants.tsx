import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { useState } from "react";
import { useMe } from "../features/session.ts";
import { api } from "../lib/api.ts";
import { formatInstant } from "../lib/format.ts";
import { Card } from "../ui/card.tsx";
import { TextField } from "../ui/field.tsx";
import { Page } from "../ui/page.tsx";
import { Pager } from "../ui/pager.tsx";
import { QueryState } from "../ui/query-state.tsx";
import { Cell, Table } from "../ui/table.tsx";
import { ForbiddenPage } from "./not-found.tsx";

const LIMIT = 20;

/**
 * Every tenant, searchable by name or slug. The API lists tenants without a
 * search parameter, so the search runs over the list it answered.
 */
export function PlatformTenantsPage() {
  const me = useMe();
  const [search, setSearch] = useState("");
  const [offset, setOffset] = useState(0);
  const tenants = useQuery({
    queryKey: ["tenant.list"],
    queryFn: () => api.tenant.list.query(),
    enabled: me.isSuperuser,
  });
  if (!me.isSuperuser) return <ForbiddenPage />;
  const words = search.trim().toLowerCase();
  const matching = (tenants.data ?? []).filter(
    (tenant) => !words || tenant.name.toLowerCase().includes(words) || tenant.slug.includes(words),
  );
  const shown = matching.slice(offset, offset + LIMIT);
  return (
    <Page title="Tenants">
      <Card>
        <div className="mb-4 max-w-sm">
          <TextField
            label="Search tenants"
            type="search"
            value={search}
            hint="Name or slug"
            onChange={(event) => {
              setSearch(event.target.value);
              setOffset(0);
            }}
          />
        </div>
        <QueryState query={tenants} empty="No tenants yet." isEmpty={(list) => list.length === 0}>
          {() =>
            matching.length === 0 ? (
              <p className="py-6 text-sm text-slate-700">No tenant matches “{search}”.</p>
            ) : (
              <>
                <Table caption="Tenants" head={["Name", "Slug", "Created"]}>
                  {shown.map((tenant) => (
                    <tr key={tenant.id}>
                      <Cell>
                        <Link
                          to="/platform/tenants/$tenantId"
                          params={{ tenantId: tenant.id }}
                          className="font-medium text-indigo-800 underline"
                        >
                          {tenant.name}
                        </Link>
                      </Cell>
                      <Cell>{tenant.slug}</Cell>
                      <Cell>{formatInstant(tenant.createdAt)}</Cell>
                    </tr>
                  ))}
                </Table>
                <Pager
                  label="Tenants"
                  offset={offset}
                  limit={LIMIT}
                  shown={shown.length}
                  count={matching.length}
                  onOffset={setOffset}
                />
              </>
            )
          }
        </QueryState>
      </Card>
    </Page>
  );
}
