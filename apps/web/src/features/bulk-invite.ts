/**
 * The addresses pasted into the bulk invite box: one per line or separated by
 * commas, semicolons or spaces (as copied from a mail client or a sheet), each
 * trimmed, the empty ones dropped. Repeats are kept: the API reports them per row.
 */
export function pastedAddresses(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((address) => address.trim())
    .filter(Boolean);
}

/** One bulk row's refusal in the API's words, every field's messages in one sentence. */
export function rowProblem(errors: Record<string, string[]> | undefined): string | null {
  if (!errors) return null;
  const messages = Object.values(errors).flat();
  return messages.length ? messages.join(" ") : null;
}

/** The addresses of a bulk answer that were not invited, once each, leaving out any invited by another row. */
export function notInvited(results: { email: string; invitation?: unknown }[]): string[] {
  const invited = new Set(results.filter((row) => row.invitation).map((row) => row.email));
  return [...new Set(results.filter((row) => !row.invitation && !invited.has(row.email)).map((row) => row.email))];
}
