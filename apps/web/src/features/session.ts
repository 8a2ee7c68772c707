import { queryOptions } from "@tanstack/react-query";
import { createContext, useContext } from "react";
import { api, type User } from "../lib/api.ts";
import { isUnauthenticated } from "../lib/errors.ts";

export const ME_KEY = ["auth.me"] as const;

/** Who is signed in (by the HttpOnly session cookie), or null. */
export const meQuery = queryOptions({
  queryKey: ME_KEY,
  queryFn: async (): Promise<User | null> => {
    try {
      return await api.auth.me.query();
    } catch (error) {
      if (isUnauthenticated(error)) return null;
      throw error;
    }
  },
  staleTime: 30_000,
});

/** Given by the signed-in pages' frame, which renders them only while someone is signed in. */
export const MeContext = createContext<User | null>(null);

/** The signed-in user, inside the signed-in pages. */
export function useMe(): User {
  const me = useContext(MeContext);
  if (!me) throw new Error("useMe outside the signed-in pages");
  return me;
}

/** Where to go after signing in: a path of this console only, never another site. */
export function safeNext(next: string | undefined): string | undefined {
  return next?.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : undefined;
}

/** The password rules (packages/auth's policy) in plain words, shown under every new-password field. */
export const PASSWORD_POLICY =
  "At least 8 characters, not a common password, not all digits, and not like your name or email.";
