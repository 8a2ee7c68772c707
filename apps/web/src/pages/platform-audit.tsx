import { AuditPanel } from "../features/audit-panel.tsx";
import { useMe } from "../features/session.ts";
import { Page } from "../ui/page.tsx";
import { ForbiddenPage } from "./not-found.tsx";

/** Every tenant's audit trail (or one tenant's), for platform staff. */
export function PlatformAuditPage() {
  const me = useMe();
  if (!me.isSuperuser) return <ForbiddenPage />;
  return (
    <Page title="Audit log, all tenants">
      <AuditPanel platform />
    </Page>
  );
}
