import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, Outlet, useNavigate } from "@tanstack/react-router";
import { useEffect } from "react";
import { MeContext, meQuery } from "./features/session.ts";
import { api, isAdmin } from "./lib/api.ts";
import { Button } from "./ui/button.tsx";

const NAV_LINK =
  "rounded-md px-2 py-2 text-sm font-medium whitespace-nowrap text-slate-700 sm:px-3 hover:bg-slate-100 hover:text-slate-900 data-[status=active]:bg-indigo-50 data-[status=active]:text-indigo-800";

/** The frame of every signed-in page: a skip link, the navigation the caller's roles allow, sign out. */
export function Shell() {
  // Asked again now and then and when the window regains focus: a session ended elsewhere leads to sign in.
  const { data: me } = useQuery({ ...meQuery, refetchInterval: 60_000, refetchOnWindowFocus: true });
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const signOut = useMutation({
    mutationFn: () => api.auth.logout.mutate(),
    onSettled: async () => {
      // Leave the signed-in pages first, so that forgetting who was signed in does not read as a lost session.
      await navigate({ to: "/sign-in" });
      queryClient.clear();
    },
  });
  if (!me) return <SessionEnded />;
  return (
    <div className="min-h-screen">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:rounded focus:bg-white focus:px-3 focus:py-2"
      >
        Skip to content
      </a>
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3">
          <Link to="/" className="text-lg font-semibold text-indigo-800">
            Tenantry
          </Link>
          <nav
            aria-label="Main"
            className="order-last -mx-1 flex w-full gap-1 overflow-x-auto sm:order-none sm:mx-0 sm:w-auto sm:flex-1 sm:flex-wrap"
          >
            {me.isSuperuser ? (
              <>
                <Link to="/platform" activeOptions={{ exact: true }} className={NAV_LINK}>
                  Tenants
                </Link>
                <Link to="/platform/invitations" className={NAV_LINK}>
                  Invitations
                </Link>
                <Link to="/platform/audit" className={NAV_LINK}>
                  Audit log
                </Link>
                <Link to="/platform/webhooks" className={NAV_LINK}>
                  Webhooks
                </Link>
              </>
            ) : (
              <>
                <Link to="/members" className={NAV_LINK}>
                  Members
                </Link>
                {isAdmin(me) && (
                  <>
                    <Link to="/invitations" className={NAV_LINK}>
                      Invitations
                    </Link>
                    <Link to="/audit" className={NAV_LINK}>
                      Audit log
                    </Link>
                  </>
                )}
              </>
            )}
            <Link to="/account" className={NAV_LINK}>
              Account
            </Link>
          </nav>
          <div className="ml-auto flex items-center gap-3 text-sm">
            <span className="hidden text-slate-700 sm:inline">{me.email}</span>
            <Button variant="secondary" size="sm" onClick={() => signOut.mutate()} disabled={signOut.isPending}>
              Sign out
            </Button>
          </div>
        </div>
      </header>
      <main id="main" className="mx-auto max-w-6xl px-4 py-8">
        <MeContext.Provider value={me}>
          <Outlet />
        </MeContext.Provider>
      </main>
    </div>
  );
}

/** Leaves for sign in, once, remembering the page that was open. */
function SessionEnded() {
  const navigate = useNavigate();
  useEffect(() => {
    const { pathname, search, hash } = window.location;
    if (pathname !== "/sign-in")
      void navigate({ to: "/sign-in", search: { next: pathname + search + hash, ended: true } });
  }, [navigate]);
  return null;
}
