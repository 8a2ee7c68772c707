import { BulkInviteForm, InvitationsList, InviteForm } from "../features/invitations-panel.tsx";
import { useMe } from "../features/session.ts";
import { isAdmin } from "../lib/api.ts";
import { Page } from "../ui/page.tsx";
import { ForbiddenPage } from "./not-found.tsx";

export function InvitationsPage() {
  const me = useMe();
  if (!isAdmin(me)) return <ForbiddenPage />;
  return (
    <Page title="Invitations">
      <InviteForm />
      <BulkInviteForm />
      <InvitationsList />
    </Page>
  );
}
