import type { ReactNode } from "react";

/** A data table that scrolls sideways on narrow screens instead of squeezing its columns. */
export function Table({ caption, head, children }: { caption: string; head: string[]; children: ReactNode }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a region that scrolls sideways must be reachable by keyboard to scroll it.
    <section aria-label={caption} tabIndex={0} className="relative overflow-x-auto">
      <table className="w-full border-collapse text-left text-sm">
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr className="border-b border-slate-300 text-slate-700">
            {head.map((name) => (
              <th key={name} scope="col" className="px-3 py-2 font-semibold whitespace-nowrap">
                {name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-200">{children}</tbody>
      </table>
    </section>
  );
}

export function Cell({ children, className }: { children: ReactNode; className?: string }) {
  return <td className={className ?? "px-3 py-2 align-top whitespace-nowrap"}>{children}</td>;
}

const BADGE_TONES = {
  neutral: "border-slate-300 bg-slate-100 text-slate-800",
  positive: "border-emerald-300 bg-emerald-50 text-emerald-900",
  warning: "border-amber-400 bg-amber-50 text-amber-900",
};

export function Badge({ children, tone = "neutral" }: { children: ReactNode; tone?: keyof typeof BADGE_TONES }) {
  return (
    <span className={`inline-block rounded-full border px-2 py-0.5 text-xs font-medium ${BADGE_TONES[tone]}`}>
      {children}
    </span>
  );
}
