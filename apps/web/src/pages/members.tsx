import { MembersPanel } from "../features/members-panel.tsx";
import { useMe } from "../features/session.ts";
import { isAdmin } from "../lib/api.ts";
import { Card } from "../ui/card.tsx";
import { Page } from "../ui/page.tsx";

/** Every member reads; admins change roles. */
export function MembersPage() {
  const me = useMe();
  return (
    <Page title="Members">
      <Card>
        <MembersPanel canManage={isAdmin(me)} />
      </Card>
    </Page>
  );
}
