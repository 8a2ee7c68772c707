import { Link } from "@tanstack/react-router";
import type { ReactNode } from "react";

/** The frame of the pages anyone may open (sign in, sign up, accept an invitation, reset a password). */
export function PublicFrame({ children }: { children: ReactNode }) {
  return (
    <div className="min-h-screen">
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-5xl items-center px-4 py-3">
          <Link to="/" className="text-lg font-semibold text-indigo-800">
            Tenantry
          </Link>
        </div>
      </header>
      <main id="main" className="mx-auto max-w-md px-4 py-10">
        {children}
      </main>
    </div>
  );
}
