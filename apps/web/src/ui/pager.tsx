import { windowLabel } from "../lib/format.ts";
import { Button } from "./button.tsx";

/** Previous / next through a list the server pages. */
export function Pager({
  offset,
  limit,
  shown,
  count,
  onOffset,
  label,
}: {
  offset: number;
  limit: number;
  shown: number;
  count: number;
  onOffset: (offset: number) => void;
  label: string;
}) {
  return (
    <nav aria-label={`${label} pages`} className="mt-4 flex flex-wrap items-center justify-between gap-2 text-sm">
      <p className="text-slate-700">{windowLabel(offset, shown, count)}</p>
      <div className="flex gap-2">
        <Button
          variant="secondary"
          size="sm"
          disabled={offset === 0}
          onClick={() => onOffset(Math.max(0, offset - limit))}
        >
          Previous page
        </Button>
        <Button
          variant="secondary"
          size="sm"
          disabled={offset + shown >= count}
          onClick={() => onOffset(offset + limit)}
        >
          Next page
        </Button>
      </div>
    </nav>
  );
}
