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
import { Badge, Cell, Table } from "../ui/table.tsx";
import { useProblem, valuesOf } from "./forms.ts";
import { ME_KEY, useMe } from "./session.ts";

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
      <form
        noValidate
        className="space-y-4"
        onSubmit={(event) => {
          event.preventDefault();
          update.mutate(valuesOf(event.currentTarget));
        }}
      >
        {errors.form && <Alert tone="error">{errors.form}</Alert>}
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
      </form>
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
      <form
        noValidate
        className="space-y-4"
        onSubmit={(event) => {
          event.preventDefault();
          const form = event.currentTarget;
          change.mutate({ values: valuesOf(form), form });
        }}
      >
        {errors.form && <Alert tone="error">{errors.form}</Alert>}
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
          hint="At least 8 characters, not a common password, not all digits, and not like your name or email."
          error={errors.fields.newPassword}
        />
        <Button type="submit" disabled={change.isPending}>
          {change.isPending ? "Changing…" : "Change password"}
        </Button>
      </form>
    </Card>
  );
}

/** Where the caller is signed in: end one session, or every one but this. */
export function SessionsPanel() {
  const queryClient = useQueryClient();
  const [message, setMessage] = useState<{ tone: "error" | "success"; words: string } | null>(null);
  const sessions = useQuery({ queryKey: ["auth.sessions"], queryFn: () => api.auth.sessions.query() });
  const done = (words: string) => async () => {
    setMessage({ tone: "success", words });
    await queryClient.invalidateQueries({ queryKey: ["auth.sessions"] });
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
          <Table caption="Your sessions" head={["Browser", "IP address", "Signed in", "Expires", "Actions"]}>
            {list.map((session) => (
              <tr key={session.id}>
                <Cell className="min-w-56 px-3 py-2 align-top break-words">
                  <span className="block max-w-md">{session.userAgent ?? "Unknown browser"}</span>
                  {session.current && (
                    <span className="mt-1 block">
                      <Badge tone="positive">This browser</Badge>
                    </span>
                  )}
                </Cell>
                <Cell>{session.ip ?? "—"}</Cell>
                <Cell>{formatInstant(session.createdAt)}</Cell>
                <Cell>{formatInstant(session.expiresAt)}</Cell>
                <Cell>
                  {session.current ? (
                    "—"
                  ) : (
                    <Button
                      variant="secondary"
                      size="sm"
                      aria-label={`End session signed in ${formatInstant(session.createdAt)} from ${session.ip ?? "an unknown address"}`}
                      disabled={endOne.isPending}
                      onClick={() => endOne.mutate(session.id)}
                    >
                      End session
                    </Button>
                  )}
                </Cell>
              </tr>
            ))}
          </Table>
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
