/** Rendering for the CLI: aligned tables for people, JSON for scripts. */
export interface Output {
  json: boolean;
  write(text: string): void;
}

export type Column<T> = [header: string, value: (row: T) => unknown];

export function render<T>(out: Output, rows: T[], columns: Column<T>[], raw: unknown = rows): void {
  if (out.json) {
    out.write(`${JSON.stringify(raw, null, 2)}\n`);
    return;
  }
  if (rows.length === 0) {
    out.write("(none)\n");
    return;
  }
  const cells = rows.map((row) => columns.map(([, value]) => cell(value(row))));
  const widths = columns.map(([header], index) =>
    Math.max(header.length, ...cells.map((line) => line[index]?.length ?? 0)),
  );
  const line = (values: string[]) =>
    values
      .map((value, index) => value.padEnd(widths[index] ?? 0))
      .join("  ")
      .trimEnd();
  out.write(`${line(columns.map(([header]) => header))}\n`);
  out.write(`${line(widths.map((width) => "-".repeat(width)))}\n`);
  for (const values of cells) out.write(`${line(values)}\n`);
  out.write(`(${rows.length} ${rows.length === 1 ? "row" : "rows"})\n`);
}

/** One result: a sentence (or `key: value` lines) for people, the whole object as JSON for scripts. */
export function renderOne(out: Output, object: Record<string, unknown>, message?: string): void {
  if (out.json) {
    out.write(`${JSON.stringify(object, null, 2)}\n`);
    return;
  }
  if (message) {
    out.write(`${message}\n`);
    return;
  }
  const width = Math.max(...Object.keys(object).map((key) => key.length));
  for (const [key, value] of Object.entries(object)) out.write(`  ${key.padEnd(width)}  ${cell(value)}\n`);
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return "-";
  if (Array.isArray(value)) return value.join(",") || "-";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
