const dateTime = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });

/** An instant from the API (ISO 8601, UTC), for people: `1 Dec 2026, 21:57 UTC`. */
export function formatInstant(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${dateTime.format(date)} UTC`;
}

export function fullName(user: { firstName: string; lastName: string; email: string }): string {
  return [user.firstName, user.lastName].filter(Boolean).join(" ") || user.email;
}

/** `Showing 21–40 of 45`. */
export function windowLabel(offset: number, shown: number, count: number): string {
  if (count === 0) return "Nothing to show";
  return `Showing ${offset + 1}–${offset + shown} of ${count}`;
}

/** The invitation token an accept link carries: `#token=…` (current emails) or `?token=…` (older ones). */
export function tokenFromLocation(location: { hash: string; search: string }): string | null {
  const fromHash = new URLSearchParams(location.hash.replace(/^#/, "")).get("token");
  const token = fromHash ?? new URLSearchParams(location.search).get("token");
  return token?.trim() || null;
}
