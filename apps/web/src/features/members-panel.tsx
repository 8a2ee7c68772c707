import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useContext, useState } from "react";
import { api, ROLES, type Role, type User } from "../lib/api.ts";
import { describeProblem, toProblem } from "../lib/errors.ts";
import { formatInstant, fullName } from "../lib/format.ts";
import { Alert } from "../ui/alert.tsx";
import { Button } from "../ui/button.tsx";
import { ConfirmDialog, Dialog } from "../ui/dialog.tsx";
import { SelectField } from "../ui/field.tsx";
import { Pager } from "../ui/pager.tsx";
import { QueryState } from "../ui/query-state.tsx";
import { Badge, Cell, Table } from "../ui/table.tsx";
import { MeContext } from "./session.ts";

const LIMIT = 20;

type Change = { kind: "deactivate" | "remove"; user: User };
const ACTIVE_FILTER = [
  { value: "", label: "All" },
  { value: "true", label: "Active" },
  { value: "false", label: "Inactive" },
];

/**
 * A tenant's members with their roles and whether they may sign in; those who
 * manage members change roles, deactivate, activate and remove them.
 */
export function MembersPanel({ tenant, canManage }: { tenant?: string; canManage: boolean }) {
  const queryClient = useQueryClient();
  const me = useContext(MeContext);
  const [offset, setOffset] = useState(0);
  const [active, setActive] = useState<"" | "true" | "false">("");
  const [editing, setEditing] = useState<User | null>(null);
  const [change, setChange] = useState<Change | null>(null);
  const [message, setMessage] = useState<{ tone: "error" | "success"; words: string } | null>(null);
  const scoped = tenant ? { tenant } : {};
  const input = { limit: LIMIT, offset, ...(active ? { isActive: active === "true" } : {}), ...scoped };
  const users = useQuery({
    queryKey: ["user.page", input],
    queryFn: () => api.user.page.query(input),
    placeholderData: keepPreviousData,
  });
  const done = async (words: string) => {
    setChange(null);
    setMessage({ tone: "success", words });
    await Promise.all(
      ["user.page", "role.page", "auth.me"].map((key) => queryClient.invalidateQueries({ queryKey: [key] })),
    );
  };
  const failed = (error: unknown) => {
    setChange(null);
    setMessage({ tone: "error", words: describeProblem(toProblem(error)) });
  };
  const deactivate = useMutation({
    mutationFn: (user: User) => api.user.deactivate.mutate({ id: user.id, ...scoped }),
    onMutate: () => setMessage(null),
    onSuccess: (user) => done(`${fullName(user)} is deactivated and signed out everywhere.`),
    onError: failed,
  });
  const activate = useMutation({
    mutationFn: (user: User) => api.user.activate.mutate({ id: user.id, ...scoped }),
    onMutate: () => setMessage(null),
    onSuccess: (user) => done(`${fullName(user)} is active again and may sign in.`),
    onError: failed,
  });
  const remove = useMutation({
    mutationFn: (user: User) => api.user.remove.mutate({ id: user.id, ...scoped }),
    onMutate: () => setMessage(null),
    onSuccess: (_, user) => done(`${fullName(user)} was removed from the tenant.`),
    onError: failed,
  });
  const pending = deactivate.isPending || activate.isPending || remove.isPending;
  return (
    <>
      <div className="mb-4 flex flex-wrap items-end gap-4">
        <SelectField
          label="Status"
          className="w-48"
          value={active}
          onChange={(event) => {
            setActive(event.target.value as "" | "true" | "false");
            setOffset(0);
            setMessage(null);
          }}
          options={ACTIVE_FILTER}
        />
      </div>
      {message && (
        <div className="mb-4">
          <Alert tone={message.tone}>{message.words}</Alert>
        </div>
      )}
      <QueryState
        query={users}
        empty={
          active === "false" ? "No inactive members." : active === "true" ? "No active members." : "No members yet."
        }
        isEmpty={(page) => page.count === 0}
      >
        {(page) => (
          <>
            <Table
              caption="Members"
              head={["Name", "Email", "Status", "Roles", "Joined", ...(canManage ? ["Actions"] : [])]}
            >
              {page.results.map((user) => (
                <tr key={user.id}>
                  <Cell>
                    {fullName(user)}
                    {user.id === me?.id && <span className="text-slate-600"> (you)</span>}
                  </Cell>
                  <Cell>{user.email}</Cell>
                  <Cell>
                    <Badge tone={user.isActive ? "positive" : "warning"}>{user.isActive ? "Active" : "Inactive"}</Badge>
                  </Cell>
                  <Cell>
                    <div className="flex flex-wrap gap-1">
                      {user.roles.length
                        ? user.roles.map((role) => <Badge key={role}>{ROLES[role]}</Badge>)
                        : "No role"}
                    </div>
                  </Cell>
                  <Cell>{formatInstant(user.dateJoined)}</Cell>
                  {canManage && (
                    <Cell>
                      <div className="flex gap-1">
                        <Button variant="secondary" size="sm" onClick={() => setEditing(user)}>
                          Roles<span className="sr-only"> of {user.email}</span>
                        </Button>
                        {user.isActive ? (
                          <Button
                            variant="secondary"
                            size="sm"
                            disabled={pending}
                            onClick={() => setChange({ kind: "deactivate", user })}
                          >
                            Deactivate<span className="sr-only"> {user.email}</span>
                          </Button>
                        ) : (
                          <Button
                            variant="secondary"
                            size="sm"
                            disabled={pending}
                            onClick={() => activate.mutate(user)}
                          >
                            Activate<span className="sr-only"> {user.email}</span>
                          </Button>
                        )}
                        <Button
                          variant="secondary"
                          size="sm"
                          disabled={pending}
                          onClick={() => setChange({ kind: "remove", user })}
                        >
                          Remove<span className="sr-only"> {user.email}</span>
                        </Button>
                      </div>
                    </Cell>
                  )}
                </tr>
              ))}
            </Table>
            <Pager
              label="Members"
              offset={offset}
              limit={LIMIT}
              shown={page.results.length}
              count={page.count}
              onOffset={setOffset}
            />
          </>
        )}
      </QueryState>
      {editing && <RolesDialog user={editing} tenant={tenant} onClose={() => setEditing(null)} />}
      <ConfirmDialog
        open={change?.kind === "deactivate"}
        title={`Deactivate ${change ? fullName(change.user) : ""}?`}
        confirmLabel="Deactivate member"
        pending={deactivate.isPending}
        onConfirm={() => change && deactivate.mutate(change.user)}
        onClose={() => setChange(null)}
      >
        {change?.user.email} is signed out everywhere at once and cannot sign in until activated again. Their roles
        stay.
      </ConfirmDialog>
      <ConfirmDialog
        open={change?.kind === "remove"}
        title={`Remove ${change ? fullName(change.user) : ""}?`}
        confirmLabel="Remove member"
        pending={remove.isPending}
        onConfirm={() => change && remove.mutate(change.user)}
        onClose={() => setChange(null)}
      >
        The account of {change?.user.email} is deleted with its roles and sessions; this cannot be undone. The audit log
        keeps what they did, and the address can be invited again.
      </ConfirmDialog>
    </>
  );
}

/** Grant and revoke one member's roles; a refusal (the last admin, say) is shown in the API's words. */
function RolesDialog({ user, tenant, onClose }: { user: User; tenant: string | undefined; onClose: () => void }) {
  const queryClient = useQueryClient();
  const input = { userId: user.id, ...(tenant ? { tenant } : {}) };
  const assignments = useQuery({ queryKey: ["role.list", input], queryFn: () => api.role.list.query(input) });
  const [role, setRole] = useState<Role>("VIEWER");
  const [message, setMessage] = useState<{ tone: "error" | "success"; words: string } | null>(null);
  const refresh = () =>
    Promise.all(
      ["role.list", "role.page", "user.page", "auth.me"].map((key) =>
        queryClient.invalidateQueries({ queryKey: [key] }),
      ),
    );
  const grant = useMutation({
    mutationFn: (granted: Role) =>
      api.role.grant.mutate({ userId: user.id, role: granted, ...(tenant ? { tenant } : {}) }),
    onSuccess: async (_, granted) => {
      setMessage({ tone: "success", words: `${ROLES[granted]} granted.` });
      await refresh();
    },
    onError: (error) => setMessage({ tone: "error", words: describeProblem(toProblem(error)) }),
  });
  const revoke = useMutation({
    mutationFn: (assignment: { id: string; role: Role }) =>
      api.role.revoke.mutate({ id: assignment.id, ...(tenant ? { tenant } : {}) }),
    onSuccess: async (_, assignment) => {
      setMessage({ tone: "success", words: `${ROLES[assignment.role]} revoked.` });
      await refresh();
    },
    onError: (error) => setMessage({ tone: "error", words: describeProblem(toProblem(error)) }),
  });
  const held = new Set(assignments.data?.map((assignment) => assignment.role));
  const grantable = (Object.keys(ROLES) as Role[]).filter((name) => !held.has(name));
  const chosen = grantable.includes(role) ? role : grantable[0];
  return (
    <Dialog open title={`Roles of ${fullName(user)}`} onClose={onClose}>
      {message && <Alert tone={message.tone}>{message.words}</Alert>}
      <QueryState query={assignments} empty="No roles." isEmpty={(list) => list.length === 0}>
        {(list) => (
          <ul className="divide-y divide-slate-200 rounded-md border border-slate-200">
            {list.map((assignment) => (
              <li key={assignment.id} className="flex items-center justify-between px-3 py-2 text-sm">
                <span className="font-medium">{ROLES[assignment.role]}</span>
                <Button
                  variant="secondary"
                  size="sm"
                  disabled={revoke.isPending}
                  onClick={() => revoke.mutate(assignment)}
                >
                  Revoke {ROLES[assignment.role]}
                </Button>
              </li>
            ))}
          </ul>
        )}
      </QueryState>
      {grantable.length > 0 && (
        <form
          className="flex items-end gap-2"
          onSubmit={(event) => {
            event.preventDefault();
            if (chosen) grant.mutate(chosen);
          }}
        >
          <SelectField
            label="Role"
            className="flex-1"
            value={chosen}
            onChange={(event) => setRole(event.target.value as Role)}
            options={grantable.map((name) => ({ value: name, label: ROLES[name] }))}
          />
          <Button type="submit" disabled={grant.isPending}>
            Grant role
          </Button>
        </form>
      )}
      <div className="flex justify-end">
        <Button variant="secondary" onClick={onClose}>
          Close
        </Button>
      </div>
    </Dialog>
  );
}
