// Preloaded (`node --import`) into a server process under test: every
// LOOP_PROBE_INTERVAL_MS it appends one JSON line to LOOP_PROBE_FILE with the
// event-loop delay seen since the last line (perf_hooks histogram, ms) and the
// process's heap. Nothing is served: the public API stays as it is.
import { appendFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";

const file = process.env.LOOP_PROBE_FILE;
if (file) {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const ms = (ns) => Math.round(ns / 1e4) / 100;
  const timer = setInterval(
    () => {
      const { heapUsed, rss } = process.memoryUsage();
      const line = {
        at: Date.now(),
        p50: ms(histogram.percentile(50)),
        p99: ms(histogram.percentile(99)),
        max: ms(histogram.max),
        heapUsed,
        rss,
      };
      histogram.reset();
      appendFileSync(file, `${JSON.stringify(line)}\n`);
    },
    Number(process.env.LOOP_PROBE_INTERVAL_MS ?? 1000),
  );
  timer.unref();
}
