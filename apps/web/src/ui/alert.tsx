import type { ReactNode } from "react";
import { cn } from "./cn.ts";

const TONES = {
  error: "border-red-300 bg-red-50 text-red-900",
  success: "border-emerald-300 bg-emerald-50 text-emerald-900",
  info: "border-slate-300 bg-white text-slate-800",
};

/** A message about the page or a form; errors are announced as they appear. */
export function Alert({ tone = "info", children }: { tone?: keyof typeof TONES; children: ReactNode }) {
  return (
    <div
      role={tone === "error" ? "alert" : "status"}
      className={cn("rounded-md border px-4 py-3 text-sm", TONES[tone])}
    >
      {children}
    </div>
  );
}
