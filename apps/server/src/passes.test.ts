import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Passes } from "./passes.js";

describe("background passes", () => {
  // Clock and timers are fake; setImmediate stays real: a pass starts on the immediate after its notify.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Moves the clock on, then lets the passes notified by then start. */
  async function advance(ms: number): Promise<void> {
    await vi.advanceTimersByTimeAsync(ms);
    await new Promise((resolve) => setImmediate(resolve));
  }

  function counting() {
    const passes: number[] = [];
    return { passes, run: async () => void passes.push(Date.now()) };
  }

  it("run a first pass at once, then on the interval", async () => {
    const { passes, run } = counting();
    const loop = new Passes(run, 2_000);
    loop.start();
    await advance(0);
    expect(passes).toHaveLength(1);
    await advance(2_000);
    expect(passes).toHaveLength(2);
    await loop.stop();
  });

  it("may put the first pass off, while work notified meanwhile goes at once", async () => {
    const { passes, run } = counting();
    const loop = new Passes(run, 2_000);
    loop.start(1_000);
    await advance(999);
    expect(passes).toHaveLength(0);
    await advance(1);
    expect(passes).toHaveLength(1);
    await loop.stop();

    const notified = counting();
    const early = new Passes(notified.run, 2_000);
    early.start(1_000);
    early.notify();
    await advance(0);
    expect(notified.passes).toHaveLength(1);
    await advance(1_000);
    expect(notified.passes).toHaveLength(2);
    await early.stop();
  });

  it("run no put-off first pass once stopped", async () => {
    const { passes, run } = counting();
    const loop = new Passes(run, 2_000);
    loop.start(1_000);
    await loop.stop();
    await advance(5_000);
    expect(passes).toEqual([]);
  });
});
