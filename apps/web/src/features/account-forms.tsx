import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../lib/api.ts";
import { describeProblem, toProblem } from "../lib/errors.ts";
import { formatInstant } from "../lib/format.ts";
import { Alert } from "../ui/alert.tsx";
import { Button } from "../ui/button.tsx";
import { Card } from "../ui/card.tsx";
import { TextField } from "../ui/field.tsx";
import { QueryState } from "../ui/query-state.tsx";
import { Badge } from "../ui/table.tsx";
import { useProblem } from "./forms.ts";
import { ME_KEY, PASSWORD_POLICY, useMe } from "./session.ts";
import { browserSummary } from "./user-agent.ts";
import { ValuesForm } from "./values-form.tsx";

/** The caller's own first and last name. */
export function NamesForm() {
  const me = useMe();
  const queryClient = useQueryClient();
  const { errors, fail, clear } = useProblem(["firstName", "lastName"]);
  const [saved, setSaved] = useState(false);
  const update = useMutation({
    mutationFn: (values: Record<string, string>) =>
      api.user.updateMe.mutate({ firstName: values.firstName ?? "", lastName: values.lastName ?? "" }),
    onMutate: () => {
      clear();
      setSaved(false);
    },
    onError: fail,
    onSuccess: async (user) => {
      setSaved(true);
      queryClient.setQueryData(ME_KEY, user);
      await queryClient.invalidateQueries({ queryKey: ["user.page"] });
    },
  });
  return (
    <Card title="Your name">
      <ValuesForm error={errors.form} onValues={(values) => update.mutate(values)}>
        {saved && <Alert tone="success">Your name is saved.</Alert>}
        <TextField
          label="First name"
          name="firstName"
          autoComplete="given-name"
          defaultValue={me.firstName}
          error={errors.fields.firstName}
        />
        <TextField
          label="Last name"
          name="lastName"
          autoComplete="family-name"
          defaultValue={me.lastName}
          error={errors.fields.lastName}
        />
        <Button type="submit" disabled={update.isPending}>
          {update.isPending ? "Saving…" : "Save name"}
        </Button>
      </ValuesForm>
    </Card>
  );
}

/** A new password, after the current one; every other session ends, this one stays. */
export function PasswordForm() {
  const queryClient = useQueryClient();
  const { errors, fail, clear } = useProblem(["currentPassword", "newPassword"]);
  const [changed, setChanged] = useState(false);
  const change = useMutation({
    mutationFn: ({ values }: { values: Record<string, string>; form: HTMLFormElement }) =>
      api.auth.changePassword.mutate({
        currentPassword: values.currentPassword ?? "",
        newPassword: values.newPassword ?? "",
      }),
    onMutate: () => {
      clear();
      setChanged(false);
    },
    onError: fail,
    onSuccess: async (_, { form }) => {
      form.reset();
      setChanged(true);
      await queryClient.invalidateQueries({ queryKey: ["auth.sessions"] });
    },
  });
  return (
    <Card title="Password">
      <ValuesForm error={errors.form} onValues={(values, form) => change.mutate({ values, form })}>
        {changed && (
          <Alert tone="success">
            Password changed. You were signed out everywhere else; this browser stays signed in.
          </Alert>
        )}
        <TextField
          label="Current password"
          name="currentPassword"
          type="password"
          autoComplete="current-password"
          error={errors.fields.currentPassword}
        />
        <TextField
          label="New password"
          name="newPassword"
          type="password"
          autoComplete="new-password"
          hint={PASSWORD_POLICY}
          error={errors.fields.newPassword}
        />
        <Button type="submit" disabled={change.isPending}>
          {change.isPending ? "Changing…" : "Change password"}
        </Button>
      </ValuesForm>
    </Card>
  );
}

/** Where the caller is signed in: end one session, or every one but this. */
export function SessionsPanel() {
  const queryClient = useQueryClient();
  const [message, setMessage] = useState<{ tone: "error" | "success"; words: string } | null>(null);
  const sessions = useQuery({ queryKey: ["auth.sessions"], queryFn: () => api.auth.sessions.query() });
  // Said once the list shows the change, so the words and the list agree.
  const done = (words: string) => async () => {
    await queryClient.invalidateQueries({ queryKey: ["auth.sessions"] });
    setMessage({ tone: "success", words });
  };
  const failed = (error: unknown) => setMessage({ tone: "error", words: describeProblem(toProblem(error)) });
  const endOne = useMutation({
    mutationFn: (id: string) => api.auth.endSession.mutate({ id }),
    onMutate: () => setMessage(null),
    onSuccess: done("That session has ended; the browser using it must sign in again."),
    onError: failed,
  });
  const endOthers = useMutation({
    mutationFn: () => api.auth.endOtherSessions.mutate(),
    onMutate: () => setMessage(null),
    onSuccess: done("Every other session has ended; only this browser is still signed in."),
    onError: failed,
  });
  const others = sessions.data?.filter((session) => !session.current).length ?? 0;
  return (
    <Card title="Where you are signed in">
      {message && (
        <div className="mb-4">
          <Alert tone={message.tone}>{message.words}</Alert>
        </div>
      )}
      <QueryState query={sessions} empty="No sessions." isEmpty={(list) => list.length === 0}>
        {(list) => (
          <ul aria-label="Your sessions" className="divide-y divide-slate-200 rounded-md border border-slate-200">
            {/* This browser first, then the others newest first (as the API lists them). */}
            {[...list.filter((each) => each.current), ...list.filter((each) => !each.current)].map((session) => (
              <li key={session.id} className="flex flex-wrap items-start justify-between gap-3 px-4 py-3 text-sm">
                <div className="min-w-0 flex-1 space-y-1">
                  <p className="flex flex-wrap items-center gap-2 font-medium text-slate-900">
                    {browserSummary(session.userAgent)}
                    {session.current && <Badge tone="positive">This browser</Badge>}
                  </p>
                  <p className="text-slate-700">
                    IP address {session.ip ?? "unknown"} · signed in {formatInstant(session.createdAt)} · expires{" "}
                    {formatInstant(session.expiresAt)}
                  </p>
                  {session.userAgent && <p className="text-xs break-all text-slate-600">{session.userAgent}</p>}
                </div>
                {!session.current && (
                  <Button
                    variant="secondary"
                    size="sm"
                    aria-label={`End session: ${browserSummary(session.userAgent)}, signed in ${formatInstant(session.createdAt)}`}
                    disabled={endOne.isPending}
                    onClick={() => endOne.mutate(session.id)}
                  >
                    End session
                  </Button>
                )}
              </li>
            ))}
          </ul>
        )}
      </QueryState>
      <div className="mt-4">
        <Button variant="secondary" disabled={others === 0 || endOthers.isPending} onClick={() => endOthers.mutate()}>
          End all other sessions
        </Button>
      </div>
    </Card>
  );
}
