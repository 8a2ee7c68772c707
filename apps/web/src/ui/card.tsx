import { type ReactNode, useId } from "react";
import { cn } from "./cn.ts";

/** A panel of a page; with a title it is a region named by it, for screen readers' landmark lists. */
export function Card({ title, children, className }: { title?: string; children: ReactNode; className?: string }) {
  const titleId = useId();
  return (
    <section
      aria-labelledby={title ? titleId : undefined}
      className={cn("rounded-lg border border-slate-200 bg-white p-4 shadow-xs sm:p-6", className)}
    >
      {title && (
        <h2 id={titleId} className="mb-4 text-lg font-semibold text-slate-900">
          {title}
        </h2>
      )}
      {children}
    </section>
  );
}
