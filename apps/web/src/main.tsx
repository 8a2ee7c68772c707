import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { RouterProvider } from "@tanstack/react-router";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { ME_KEY } from "./features/session.ts";
import { isUnauthenticated, toProblem } from "./lib/errors.ts";
import { createAppRouter } from "./router.tsx";
import "./styles.css";

/**
 * One query client for the app. A call answered 401 means the session ended
 * (signed out elsewhere, deactivated, expired): forget what was loaded and go
 * to sign in, coming back here afterwards.
 */
const queryClient = new QueryClient({
  queryCache: new QueryCache({ onError: (error) => signedOutIf(error) }),
  mutationCache: new MutationCache({ onError: (error) => signedOutIf(error) }),
  defaultOptions: {
    queries: {
      staleTime: 5_000,
      retry: (failures, error) => toProblem(error).code === "NETWORK" && failures < 2,
    },
  },
});
const router = createAppRouter(queryClient);

function signedOutIf(error: unknown) {
  if (!isUnauthenticated(error)) return;
  const here = router.state.location;
  queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== ME_KEY[0] });
  queryClient.setQueryData(ME_KEY, null);
  if (here.pathname !== "/sign-in") {
    void router.navigate({ to: "/sign-in", search: { next: here.href, ended: true } });
  }
}

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <RouterProvider router={router} />
      </QueryClientProvider>
    </StrictMode>,
  );
}
