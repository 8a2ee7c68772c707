import type { QueryClient } from "@tanstack/react-query";
import { createRootRouteWithContext, createRoute, createRouter, Outlet, redirect } from "@tanstack/react-router";
import { meQuery } from "./features/session.ts";
import { AcceptInvitePage } from "./pages/accept-invite.tsx";
import { AccountPage } from "./pages/account.tsx";
import { AuditPage } from "./pages/audit.tsx";
import { ForgotPasswordPage } from "./pages/forgot-password.tsx";
import { InvitationsPage } from "./pages/invitations.tsx";
import { MembersPage } from "./pages/members.tsx";
import { ErrorPage, NotFoundPage } from "./pages/not-found.tsx";
import { PlatformAuditPage } from "./pages/platform-audit.tsx";
import { PlatformInvitationsPage } from "./pages/platform-invitations.tsx";
import { PlatformTenantPage } from "./pages/platform-tenant.tsx";
import { PlatformTenantsPage } from "./pages/platform-tenants.tsx";
import { PlatformWebhooksPage } from "./pages/platform-webhooks.tsx";
import { ResetPasswordPage } from "./pages/reset-password.tsx";
import { SignInPage } from "./pages/sign-in.tsx";
import { SignUpPage } from "./pages/sign-up.tsx";
import { Shell } from "./shell.tsx";
import { PublicFrame } from "./ui/public-frame.tsx";

const rootRoute = createRootRouteWithContext<{ queryClient: QueryClient }>()({
  component: Outlet,
  notFoundComponent: () => (
    <PublicFrame>
      <NotFoundPage />
    </PublicFrame>
  ),
});

const indexRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/",
  beforeLoad: async ({ context }) => {
    const me = await context.queryClient.ensureQueryData(meQuery);
    if (!me) throw redirect({ to: "/sign-in" });
    throw redirect({ to: me.isSuperuser ? "/platform" : "/members" });
  },
});

/** `/sign-in?next=/invitations`: where to return; `ended`: the session ended under an open page. */
const signInRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/sign-in",
  validateSearch: (search: Record<string, unknown>): { next?: string; ended?: boolean } => ({
    ...(typeof search.next === "string" ? { next: search.next } : {}),
    ...(search.ended === true || search.ended === "true" ? { ended: true } : {}),
  }),
  component: SignInPage,
});

const signUpRoute = createRoute({ getParentRoute: () => rootRoute, path: "/sign-up", component: SignUpPage });
const acceptRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/accept-invite",
  component: AcceptInvitePage,
});

const forgotRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/forgot-password",
  component: ForgotPasswordPage,
});
/** `/reset-password#token=…`, the link in every password reset email. */
const resetRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/reset-password",
  component: ResetPasswordPage,
});

/** Every page below needs a session; without one, sign in first and come back. */
const appRoute = createRoute({
  getParentRoute: () => rootRoute,
  id: "app",
  beforeLoad: async ({ context, location }) => {
    const me = await context.queryClient.ensureQueryData(meQuery);
    if (!me) throw redirect({ to: "/sign-in", search: { next: location.href } });
  },
  component: Shell,
  notFoundComponent: NotFoundPage,
});

const page = <P extends string>(path: P, component: () => React.ReactNode) =>
  createRoute({ getParentRoute: () => appRoute, path, component });

const membersRoute = page("/members", MembersPage);
const invitationsRoute = page("/invitations", InvitationsPage);
const auditRoute = page("/audit", AuditPage);
const accountRoute = page("/account", AccountPage);
const platformRoute = page("/platform", PlatformTenantsPage);
const platformTenantRoute = page("/platform/tenants/$tenantId", PlatformTenantPage);
const platformInvitationsRoute = page("/platform/invitations", PlatformInvitationsPage);
const platformAuditRoute = page("/platform/audit", PlatformAuditPage);
const platformWebhooksRoute = page("/platform/webhooks", PlatformWebhooksPage);

const routeTree = rootRoute.addChildren([
  indexRoute,
  signInRoute,
  signUpRoute,
  acceptRoute,
  forgotRoute,
  resetRoute,
  appRoute.addChildren([
    membersRoute,
    invitationsRoute,
    auditRoute,
    accountRoute,
    platformRoute,
    platformTenantRoute,
    platformInvitationsRoute,
    platformAuditRoute,
    platformWebhooksRoute,
  ]),
]);

export function createAppRouter(queryClient: QueryClient) {
  return createRouter({
    routeTree,
    context: { queryClient },
    defaultPreload: false,
    scrollRestoration: true,
    defaultErrorComponent: ({ error, reset }) => (
      <PublicFrame>
        <ErrorPage error={error} retry={reset} />
      </PublicFrame>
    ),
  });
}

declare module "@tanstack/react-router" {
  interface Register {
    router: ReturnType<typeof createAppRouter>;
  }
}
