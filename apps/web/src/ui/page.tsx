import { type ReactNode, useEffect, useRef } from "react";

/**
 * A page's heading takes the focus when the page opens, so keyboard and
 * screen-reader users start at the new content after every navigation.
 */
export function Page({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Tenantry`;
    heading.current?.focus();
  }, [title]);
  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h1 ref={heading} tabIndex={-1} className="text-2xl font-semibold text-slate-900 focus:outline-none">
          {title}
        </h1>
        {actions}
      </div>
      {children}
    </div>
  );
}
